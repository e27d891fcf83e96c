package cmd

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
)

// optionFlags are a job's options as flags, shared by add and modify: add
// applies every one over the defaults, modify only those the user set.
type optionFlags struct {
	name         string
	grace        string
	coalesce     bool
	noCoalesce   bool
	maxInstances int
	executor     string
	timeout      string
	jitter       string
	dir          string
	env          []string
	recover      bool
	policy       policyFlags
	mailTo       string
	mailOn       string
	ping         string
}

// register wires the flags into c; the executors complete from the stored
// jobs of db. add (withDefaults) applies every flag,
// so its help shows the defaults it stores; modify applies only the flags
// given, the others leave the job as it is, so its help shows no default
// (pflag shows none for a zero value).
func (f *optionFlags) register(c *cobra.Command, db *database, withDefaults bool) {
	fs := c.Flags()
	var def store.Options
	grace, timeout, jitter, mailOn := "", "", "", ""
	if withDefaults {
		def = store.DefaultOptions()
		grace, timeout, jitter, mailOn = jobfile.FormatGrace(def.MisfireGrace), "0", "0", def.MailOn.String()
	}
	fs.StringVar(&f.name, "name", "", "a name for people (ids are for commands)")
	fs.StringVar(&f.grace, "misfire-grace", grace, "how late a run may still start: a DURATION of at least 1s, or none for no limit")
	fs.BoolVar(&f.coalesce, "coalesce", def.Coalesce, "run once, not once per fire time, after a delay or downtime")
	fs.BoolVar(&f.noCoalesce, "no-coalesce", false, "run once for every missed fire time still within the misfire grace")
	fs.IntVar(&f.maxInstances, "max-instances", def.MaxInstances, "how many runs of the job may be in progress at once (a run beyond is skipped)")
	fs.StringVar(&f.executor, "executor", def.Executor, "NAME of the worker pool the job runs in")
	fs.StringVar(&f.timeout, "timeout", timeout, "DURATION after which a run is terminated (0: none)")
	fs.StringVar(&f.jitter, "jitter", jitter, "random start delay of up to DURATION")
	fs.StringVar(&f.dir, "dir", "", "PATH of the directory the command runs in, relative to this one (empty: the scheduler's)")
	fs.StringArrayVar(&f.env, "env", nil, "KEY=VALUE environment variable for the command; repeatable")
	fs.BoolVar(&f.recover, "recover", def.Recover, "re-run a fire time, as a new attempt, when the scheduler running it dies mid-run (on a store shared by several schedulers)")
	f.policy.register(c)
	fs.StringVar(&f.mailTo, "mailto", "", `ADDRESSES (comma-separated) the runs' output is mailed to, as cron's MAILTO; "" for none (unset: the scheduler's [scheduler] mailto)`)
	fs.StringVar(&f.mailOn, "mail-on", mailOn, "which runs are mailed: output (printed something, or did not succeed), failure, or always")
	fs.StringVar(&f.ping, "ping", "", `URL of a run monitor (healthchecks.io conventions) pinged as each run starts and ends; "" for none`)
	_ = c.RegisterFlagCompletionFunc("executor", completeExecutors(db))
	_ = c.RegisterFlagCompletionFunc("mail-on", cobra.FixedCompletions(store.MailOnNames, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("ping", cobra.NoFileCompletions)
	_ = c.RegisterFlagCompletionFunc("misfire-grace", cobra.FixedCompletions([]string{"30s", "1m", "5m", "1h", "none"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.MarkFlagDirname("dir")
}

// apply writes the flags that changed reports as set into j; with all, every
// flag counts as set (add).
func (f *optionFlags) apply(fs *pflag.FlagSet, j *store.Job, all bool) error {
	set := func(name string) bool { return all || fs.Changed(name) }
	o := &j.Options
	if set("name") {
		if err := store.CheckName(f.name); err != nil {
			return usagef("--name: %v", err)
		}
		j.Name = f.name
	}
	if set("misfire-grace") {
		g, err := jobfile.ParseGrace(f.grace)
		if err != nil {
			return usagef("--misfire-grace: %v", err)
		}
		o.MisfireGrace = g
	}
	if fs.Changed("coalesce") && fs.Changed("no-coalesce") {
		return usagef("--coalesce and --no-coalesce: give one")
	}
	if set("coalesce") {
		o.Coalesce = f.coalesce
	}
	if fs.Changed("no-coalesce") {
		o.Coalesce = !f.noCoalesce
	}
	if set("max-instances") {
		if f.maxInstances < 1 {
			return usagef("--max-instances: %d is less than 1", f.maxInstances)
		}
		o.MaxInstances = f.maxInstances
	}
	if set("executor") {
		o.Executor = f.executor
	}
	for _, d := range []struct {
		flag, text string
		to         *time.Duration
	}{{"timeout", f.timeout, &o.Timeout}, {"jitter", f.jitter, &o.Jitter}} {
		if !set(d.flag) {
			continue
		}
		v, err := schedule.ParseDuration(d.text)
		if err != nil {
			return usagef("--%s: %v", d.flag, err)
		}
		if v < 0 {
			return usagef("--%s: %s is negative", d.flag, d.text)
		}
		*d.to = v
	}
	if set("dir") {
		o.Dir = "" // the scheduler's
		if f.dir != "" {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			if o.Dir, err = jobfile.ResolveDir(f.dir, wd); err != nil {
				return usagef("--dir: %v", err)
			}
		}
	}
	for _, kv := range f.env {
		if err := store.CheckEnv(kv); err != nil {
			return usagef("--env: %v", err)
		}
		o.Env = setEnv(o.Env, kv)
	}
	if set("recover") {
		o.Recover = f.recover
	}
	if err := f.policy.apply(fs, o); err != nil {
		return err
	}
	if fs.Changed("mailto") { // unset, a job mails where the scheduler does
		if err := store.CheckMailTo(f.mailTo); err != nil {
			return usagef("--mailto: %v", err)
		}
		o.MailTo = &f.mailTo
	}
	if set("mail-on") {
		on, err := store.ParseMailOn(f.mailOn)
		if err != nil {
			return usagef("--mail-on: %v", err)
		}
		o.MailOn = on
	}
	if set("ping") {
		if err := store.CheckPing(f.ping); err != nil {
			return usagef("--ping: %v", err)
		}
		o.Ping = f.ping
	}
	if err := store.CheckOptions(*o); err != nil {
		return asUsage(err)
	}
	return nil
}

// setEnv returns env with KEY=VALUE set, replacing an entry for the same
// key, and sorted as the jobfile keeps it.
func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	env = append(unsetEnv(env, k), kv)
	slices.Sort(env)
	return env
}

// unsetEnv returns env without the entry of key; env itself is left as it
// is.
func unsetEnv(env []string, key string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, key+"=") })
}

// checkTriggerFlags builds the Spec the trigger flags describe, checked by
// parsing it the way the store will.
func checkTriggerFlags(f *triggerFlags) (schedule.Spec, bool, error) {
	spec, ok, err := f.spec()
	if err != nil || !ok {
		return spec, ok, err
	}
	if err := spec.Validate(); err != nil {
		return spec, ok, asUsage(fmt.Errorf("trigger: %w", err))
	}
	return spec, ok, nil
}
