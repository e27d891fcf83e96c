package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// The completion command is cobra's own (the same help, the same scripts),
// built as every other command is rather than by cobra when the root runs:
// so it is in the man pages, and a shell it does not know is a usage error
// rather than its help and status 0.

type completionOptions struct {
	io Streams

	root   *cobra.Command // the tree to complete
	shell  string
	noDesc bool
}

// completionShells are the shells completion writes scripts for, and how to
// load each script (%[1]s is the program's name).
var completionShells = []struct{ name, long string }{
	{"bash", `Generate the autocompletion script for the bash shell.

This script depends on the 'bash-completion' package.
If it is not installed already, you can install it via your OS's package manager.

To load completions in your current shell session:

	source <(%[1]s completion bash)

To load completions for every new session, execute once:

#### Linux:

	%[1]s completion bash > /etc/bash_completion.d/%[1]s

#### macOS:

	%[1]s completion bash > $(brew --prefix)/etc/bash_completion.d/%[1]s

You will need to start a new shell for this setup to take effect.
`},
	{"zsh", `Generate the autocompletion script for the zsh shell.

If shell completion is not already enabled in your environment you will need
to enable it.  You can execute the following once:

	echo "autoload -U compinit; compinit" >> ~/.zshrc

To load completions in your current shell session:

	source <(%[1]s completion zsh)

To load completions for every new session, execute once:

#### Linux:

	%[1]s completion zsh > "${fpath[1]}/_%[1]s"

#### macOS:

	%[1]s completion zsh > $(brew --prefix)/share/zsh/site-functions/_%[1]s

You will need to start a new shell for this setup to take effect.
`},
	{"fish", `Generate the autocompletion script for the fish shell.

To load completions in your current shell session:

	%[1]s completion fish | source

To load completions for every new session, execute once:

	%[1]s completion fish > ~/.config/fish/completions/%[1]s.fish

You will need to start a new shell for this setup to take effect.
`},
	{"powershell", `Generate the autocompletion script for powershell.

To load completions in your current shell session:

	%[1]s completion powershell | Out-String | Invoke-Expression

To load completions for every new session, add the output of the above command
to your powershell profile.
`},
}

// newCompletionCmd builds the completion command for root, whose
// CompletionOptions it sets so that cobra adds no command of its own.
func newCompletionCmd(f *Factory, root *cobra.Command) *cobra.Command {
	root.CompletionOptions.DisableDefaultCmd = true
	name := root.Name()
	c := &cobra.Command{
		Use:   "completion",
		Short: "Generate the autocompletion script for the specified shell",
		Long: fmt.Sprintf(`Generate the autocompletion script for %[1]s for the specified shell.
See each sub-command's help for details on how to use the generated script.
`, name),
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			return usagef("completion: name a shell: bash, zsh, fish or powershell")
		},
	}
	for _, sh := range completionShells {
		o := &completionOptions{io: f.IO, root: root, shell: sh.name}
		sub := &cobra.Command{
			Use:               sh.name,
			Short:             "Generate the autocompletion script for " + sh.name,
			Long:              fmt.Sprintf(sh.long, name),
			Args:              cobra.NoArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE:              func(c *cobra.Command, _ []string) error { return runCompletion(c.Context(), o) },
		}
		// As cobra's: bash's usage line shows no [flags].
		sub.DisableFlagsInUseLine = sh.name == "bash"
		sub.Flags().BoolVar(&o.noDesc, "no-descriptions", false, "disable completion descriptions")
		c.AddCommand(sub)
	}
	return c
}

func runCompletion(_ context.Context, o *completionOptions) error {
	w, desc := o.io.Out, !o.noDesc
	switch o.shell {
	case "bash":
		return o.root.GenBashCompletionV2(w, desc)
	case "zsh":
		if desc {
			return o.root.GenZshCompletion(w)
		}
		return o.root.GenZshCompletionNoDesc(w)
	case "fish":
		return o.root.GenFishCompletion(w, desc)
	case "powershell":
		if desc {
			return o.root.GenPowerShellCompletionWithDesc(w)
		}
		return o.root.GenPowerShellCompletion(w)
	}
	return fmt.Errorf("completion: no shell %q", o.shell)
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
