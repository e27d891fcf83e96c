package cmd

import "github.com/spf13/cobra"

// setUpCompletion adds cobra's completion command to root and gives every
// command the completions of the flags that mean the same everywhere.
func setUpCompletion(root *cobra.Command) {
	// cobra would add the command when root executes; added now, it is in
	// the man pages, and a shell it does not know is a usage error rather
	// than its help and status 0.
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.RunE = func(*cobra.Command, []string) error {
			return usagef("completion: name a shell: bash, zsh, fish or powershell")
		}
	}
	completeCommonFlags(root)
}

// completeCommonFlags gives every command in c's tree the completions of
// -o (formats) and --tz (zones), so no command that gains one of them can
// forget them. A command that registered its own keeps it.
func completeCommonFlags(c *cobra.Command) {
	for name, complete := range map[string]cobra.CompletionFunc{
		"output": cobra.FixedCompletions([]string{outputTable, outputJSON}, cobra.ShellCompDirectiveNoFileComp),
		"tz":     completeZones,
	} {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, complete) // fails only when already registered
		}
	}
	for _, sub := range c.Commands() {
		completeCommonFlags(sub)
	}
}
