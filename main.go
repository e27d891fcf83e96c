// Command jobctl is a cron replacement with APScheduler's scheduling model:
// jobs in a local bbolt file, date, interval and cron triggers, misfire grace,
// coalescing, max instances, and a foreground scheduler (jobctl run).
package main

import (
	"os"

	_ "time/tzdata" // zones work on hosts without zoneinfo

	"github.com/jobctl/jobctl/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
