package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jobctl/jobctl/schedule"
)

// A job's trigger is stored with the name of its zone: a job created
// without one gets the IANA name of its creator's local zone, so that it
// means the same instants to every process that reads it, whatever its TZ
// (as APScheduler stores its trigger's timezone). Only jobs stored by an
// older jobctl have none; they are read in the reader's local zone.

// LocalZone returns the IANA name of this process's local zone, as Go's
// time package finds it: $TZ (a name, or a path into a zoneinfo directory,
// with or without a leading colon; set but empty is UTC), else the link
// /etc/localtime, else /etc/timezone. A zone that has no name to give
// (a POSIX rule in TZ, a copied /etc/localtime) is an error asking for one,
// unless it is UTC.
func LocalZone() (string, error) {
	return localZone(os.LookupEnv, os.Readlink, os.ReadFile, time.Local)
}

// localZone is LocalZone with the process's environment, files and local
// zone passed in.
func localZone(lookupEnv func(string) (string, bool), readlink func(string) (string, error), readFile func(string) ([]byte, error), local *time.Location) (string, error) {
	if tz, ok := lookupEnv("TZ"); ok {
		name := strings.TrimPrefix(tz, ":")
		if name == "" {
			return "UTC", nil
		}
		if n, ok := zoneinfoName(name); ok {
			return n, nil
		}
		if filepath.IsAbs(name) {
			if target, err := readlink(name); err == nil {
				if n, ok := zoneinfoName(target); ok {
					return n, nil
				}
			}
		}
		return "", fmt.Errorf("TZ=%q is not the name of a time zone (want an IANA name such as Europe/Berlin): name the zone with --tz, or [scheduler] timezone in a jobfile", tz)
	}
	target, err := readlink("/etc/localtime")
	switch {
	case err == nil:
		if !filepath.IsAbs(target) {
			target = filepath.Join("/etc", target)
		}
		if n, ok := zoneinfoName(target); ok {
			return n, nil
		}
	case errors.Is(err, os.ErrNotExist):
		return "UTC", nil // Go's time package reads no zone: UTC
	}
	if b, err := readFile("/etc/timezone"); err == nil {
		if n, ok := zoneinfoName(strings.TrimSpace(string(b))); ok && sameZone(n, local) {
			return n, nil
		}
	}
	if sameZone("UTC", local) {
		return "UTC", nil
	}
	return "", errors.New("cannot name the local time zone (/etc/localtime is not a link into a zoneinfo directory, and TZ is not set): name the zone with --tz, TZ=Area/City, or [scheduler] timezone in a jobfile")
}

// zoneinfoName returns the zone name in s, a name or a path into a
// zoneinfo directory, if it names a zone Go can load.
func zoneinfoName(s string) (string, bool) {
	if i := strings.LastIndex(s, "zoneinfo/"); i >= 0 {
		s = s[i+len("zoneinfo/"):]
		// Debian's posix/ and right/ trees hold the same zones.
		s = strings.TrimPrefix(strings.TrimPrefix(s, "posix/"), "right/")
	}
	if s == "" || filepath.IsAbs(s) || strings.EqualFold(s, "local") {
		return "", false
	}
	if _, err := schedule.LoadLocation(s); err != nil {
		return "", false
	}
	return s, true
}

// sameZone reports whether the zone named name agrees with local on every
// offset change of the past and next few years: /etc/timezone may be stale
// where /etc/localtime was copied.
func sameZone(name string, local *time.Location) bool {
	loc, err := schedule.LoadLocation(name)
	if err != nil {
		return false
	}
	now := time.Now()
	for t := now.AddDate(-2, 0, 0); t.Before(now.AddDate(2, 0, 0)); t = t.Add(24 * time.Hour) {
		_, a := t.In(loc).Zone()
		_, b := t.In(local).Zone()
		if a != b {
			return false
		}
	}
	return true
}

// ZoneOr returns tz, or the local zone's name when tz is empty or "local":
// the zone a new job's trigger is stored with.
func ZoneOr(tz string) (string, error) {
	if tz != "" && !strings.EqualFold(tz, "local") {
		return tz, nil
	}
	return LocalZone()
}

// Location is the zone the job's times are shown in: its trigger's zone,
// or the local zone for a job stored without one (by an older jobctl).
func (j *Job) Location() *time.Location {
	if j.Trigger.Timezone != "" {
		if loc, err := schedule.LoadLocation(j.Trigger.Timezone); err == nil {
			return loc
		}
	}
	return time.Local
}
