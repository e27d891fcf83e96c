package store

import (
	"errors"
	"io/fs"
	"testing"
	"time"
)

func TestLocalZone(t *testing.T) {
	noFile := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	link := func(to string) func(string) (string, error) {
		return func(name string) (string, error) {
			if name == "/etc/localtime" || name == "/srv/tz" {
				return to, nil
			}
			return "", fs.ErrNotExist
		}
	}
	noLink := func(string) (string, error) { return "", fs.ErrNotExist }
	notLink := func(string) (string, error) { return "", errors.New("invalid argument") }
	env := func(tz string, set bool) func(string) (string, bool) {
		return func(string) (string, bool) { return tz, set }
	}
	for _, tt := range []struct {
		name     string
		env      func(string) (string, bool)
		readlink func(string) (string, error)
		readFile func(string) ([]byte, error)
		want     string
		wantErr  bool
	}{
		{"TZ names a zone", env("America/New_York", true), noLink, noFile, "America/New_York", false},
		{"TZ with a colon", env(":Europe/Berlin", true), noLink, noFile, "Europe/Berlin", false},
		{"TZ is a zoneinfo path", env("/usr/share/zoneinfo/Asia/Tokyo", true), noLink, noFile, "Asia/Tokyo", false},
		{"TZ is a link to a zoneinfo file", env("/srv/tz", true), link("/usr/share/zoneinfo/Europe/Paris"), noFile, "Europe/Paris", false},
		{"TZ set but empty is UTC", env("", true), noLink, noFile, "UTC", false},
		{"TZ is a POSIX rule", env("CET-1CEST,M3.5.0,M10.5.0/3", true), noLink, noFile, "", true},
		{"TZ is nonsense", env("Mars/Olympus", true), noLink, noFile, "", true},
		{"TZ is local", env("Local", true), noLink, noFile, "", true},
		{"/etc/localtime links", env("", false), link("/usr/share/zoneinfo/Australia/Lord_Howe"), noFile, "Australia/Lord_Howe", false},
		{"a relative link", env("", false), link("../usr/share/zoneinfo/Pacific/Chatham"), noFile, "Pacific/Chatham", false},
		{"Debian's posix tree", env("", false), link("/usr/share/zoneinfo/posix/Europe/Rome"), noFile, "Europe/Rome", false},
		{"no /etc/localtime is UTC", env("", false), noLink, noFile, "UTC", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := localZone(tt.env, tt.readlink, tt.readFile, time.UTC)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	// A copied /etc/localtime: /etc/timezone is believed only where it
	// agrees with the zone in use; a UTC one needs no name.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	etcTimezone := func(string) ([]byte, error) { return []byte("Europe/Berlin\n"), nil }
	for _, tt := range []struct {
		local   *time.Location
		file    func(string) ([]byte, error)
		want    string
		wantErr bool
	}{
		{berlin, etcTimezone, "Europe/Berlin", false},
		{time.UTC, etcTimezone, "UTC", false},
		{berlin, noFile, "", true},
		{time.FixedZone("X", 3600), etcTimezone, "", true},
	} {
		got, err := localZone(env("", false), notLink, tt.file, tt.local)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("copied localtime, local zone %v: got %q, %v; want %q, error %v", tt.local, got, err, tt.want, tt.wantErr)
		}
	}
}
