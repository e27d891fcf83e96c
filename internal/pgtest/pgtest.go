// Package pgtest gives tests a real PostgreSQL server: a throwaway cluster
// in a temporary directory, listening on a Unix socket only, started once
// per test binary (by Main) and removed when its tests end. Each test gets
// a database of its own (NewDB). Nothing is mocked.
//
// PostgreSQL refuses to run as root, and tests here run as root: the
// cluster then belongs to the postgres user (runuser). Where there is no
// PostgreSQL a test fails under CI=true and is skipped, with the reason,
// elsewhere.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// cluster is the one server of this test binary.
var cluster struct {
	once    sync.Once
	dir     string // its socket directory, holding data/ and the log
	bin     string // the directory of initdb and pg_ctl
	asUser  string // "postgres" when we are root, else "" (ourselves)
	err     error  // why there is none
	started bool
	dbs     atomic.Int64
}

// Main runs a package's tests and then stops the cluster, if one was
// started: call it from TestMain, os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if cluster.started {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// NewDB returns the URL of a new, empty database on the test cluster,
// starting the cluster the first time. Without PostgreSQL it fails the
// test under CI=true and skips it otherwise.
func NewDB(t testing.TB) string {
	t.Helper()
	cluster.once.Do(func() { cluster.err = start() })
	if cluster.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no PostgreSQL for this test (CI=true): %v", cluster.err)
		}
		t.Skipf("no PostgreSQL: %v", cluster.err)
	}
	name := "t" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatInt(cluster.dbs.Add(1), 10)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL("postgres"))
	if err != nil {
		t.Fatalf("connecting to the test cluster: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return URL(name)
}

// URL is the URL of the database name on the test cluster.
func URL(name string) string {
	q := url.Values{"host": {cluster.dir}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// start creates and starts the cluster: about a second.
func start() error {
	bin, err := binDir()
	if err != nil {
		return err
	}
	cluster.bin = bin
	dir, err := os.MkdirTemp("", "jobctl-pg-")
	if err != nil {
		return err
	}
	cluster.dir = dir
	if os.Geteuid() == 0 {
		cluster.asUser = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := pgCmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	// No TCP, no durability: a test server on a socket of its own.
	opts := "-c listen_addresses= -k " + dir + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
	if out, err := pgCmd("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	cluster.started = true
	return nil
}

// Stop stops the cluster at once and removes its files.
func stop() error {
	out, err := pgCmd("pg_ctl", "-D", filepath.Join(cluster.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return errors.Join(err, os.RemoveAll(cluster.dir))
}

// Restart stops the server (fast: every connection is cut) and starts it
// again on the same data, for tests of what clients do meanwhile.
func Restart(t testing.TB) {
	t.Helper()
	data := filepath.Join(cluster.dir, "data")
	// The log too, or the server writes to our pipe, and waiting for the
	// command's output waits for the server.
	log := filepath.Join(cluster.dir, "server.log")
	if out, err := pgCmd("pg_ctl", "-D", data, "-l", log, "-m", "fast", "-w", "restart").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl restart: %v: %s", err, out)
	}
}

func pgCmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(cluster.bin, name)
	if cluster.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", cluster.asUser, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// binDir finds PostgreSQL's programs: Debian keeps them in
// /usr/lib/postgresql/VERSION/bin, off the PATH; elsewhere they are on it.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no pg_ctl in /usr/lib/postgresql/*/bin or on the PATH (apt-get install postgresql)")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}
