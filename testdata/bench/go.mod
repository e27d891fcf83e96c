module github.com/jobctl/jobctl/testdata/bench

go 1.26.8

replace github.com/jobctl/jobctl => ../..

require (
	github.com/jobctl/jobctl v0.0.0-00010101000000-000000000000
	github.com/robfig/cron/v3 v3.0.1
)
