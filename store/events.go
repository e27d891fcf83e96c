package store

// Event names: what a scheduler did or saw, as APScheduler 3.x names its
// events (EVENT_JOB_MISSED is job_missed). A running scheduler emits them;
// listeners (Settings.Listeners, a jobfile's [[listener]]) name the ones
// they take.
const (
	EventSchedulerStarted  = "scheduler_started"
	EventSchedulerShutdown = "scheduler_shutdown"
	EventSchedulerPaused   = "scheduler_paused"
	EventSchedulerResumed  = "scheduler_resumed"
	EventJobAdded          = "job_added"
	EventJobRemoved        = "job_removed"
	EventJobModified       = "job_modified"
	EventJobSubmitted      = "job_submitted" // a run was handed to its executor
	// EventJobStarted is jobctl's own, not APScheduler's: a run's process
	// started (or its Func was called), after any wait for a worker and
	// its jitter.
	EventJobStarted      = "job_started"
	EventJobExecuted     = "job_executed"      // a run succeeded
	EventJobError        = "job_error"         // a run failed, timed out, was interrupted or cancelled
	EventJobMissed       = "job_missed"        // a run was later than its misfire grace
	EventJobMaxInstances = "job_max_instances" // a run was skipped: max instances running
)

// EventNames lists every event name.
var EventNames = []string{
	EventSchedulerStarted, EventSchedulerShutdown, EventSchedulerPaused, EventSchedulerResumed,
	EventJobAdded, EventJobRemoved, EventJobModified,
	EventJobSubmitted, EventJobStarted, EventJobExecuted, EventJobError, EventJobMissed, EventJobMaxInstances,
}
