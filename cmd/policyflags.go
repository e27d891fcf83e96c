package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
)

// policyFlags are a job's run policies as flags, for add and modify: each
// applies only when given, since their zero values are the defaults.
type policyFlags struct {
	retries       int
	retryDelay    string
	retryBackoff  string
	retryMaxDelay string
	overlap       string
}

func (f *policyFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.IntVar(&f.retries, "retries", 0, fmt.Sprintf("try a failed or timed-out run again up to N times for its fire time (0-%d)", schedule.MaxRetries))
	fs.StringVar(&f.retryDelay, "retry-delay", "", fmt.Sprintf("DURATION before the first retry (default %s), ±10%% at random", schedule.FormatDuration(schedule.DefaultRetryDelay)))
	fs.StringVar(&f.retryBackoff, "retry-backoff", "", fmt.Sprintf("FACTOR each retry's delay grows by (default %g; 1: the same delay each time)", schedule.DefaultRetryBackoff))
	fs.StringVar(&f.retryMaxDelay, "retry-max-delay", "", "longest DURATION between retries (default: no limit)")
	names := make([]string, len(store.Overlaps))
	for i, o := range store.Overlaps {
		names[i] = o.String()
	}
	fs.StringVar(&f.overlap, "overlap", "", "POLICY when the job fires while max instances run: "+strings.Join(names, ", ")+" (default skip)")
	_ = c.RegisterFlagCompletionFunc("overlap", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("retry-delay", cobra.FixedCompletions([]string{"10s", "30s", "1m", "5m"}, cobra.ShellCompDirectiveNoFileComp))
}

// apply writes the policy flags given into o.
func (f *policyFlags) apply(fs *pflag.FlagSet, o *store.Options) error {
	r := &o.Retry
	if fs.Changed("retries") {
		r.Max = f.retries
	}
	for _, d := range []struct {
		flag, text string
		to         *time.Duration
	}{{"retry-delay", f.retryDelay, &r.Delay}, {"retry-max-delay", f.retryMaxDelay, &r.MaxDelay}} {
		if !fs.Changed(d.flag) {
			continue
		}
		v, err := schedule.ParseDuration(d.text)
		if err != nil {
			return usagef("--%s: %v", d.flag, err)
		}
		*d.to = v
	}
	if fs.Changed("retry-backoff") {
		v, err := strconv.ParseFloat(f.retryBackoff, 64)
		if err != nil {
			return usagef("--retry-backoff: %q is not a number", f.retryBackoff)
		}
		r.Backoff = v
	}
	if err := store.CheckRetry(*r); err != nil {
		// It names the jobfile's key: the flag is that, with dashes.
		key, msg, _ := strings.Cut(err.Error(), ": ")
		return usagef("--%s: %s", strings.ReplaceAll(key, "_", "-"), msg)
	}
	if fs.Changed("overlap") {
		v, err := store.ParseOverlap(f.overlap)
		if err != nil {
			return usagef("--overlap: %v", err)
		}
		o.Overlap = v
	}
	return nil
}
