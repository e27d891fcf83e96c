package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jobctl/jobctl/store"
)

// Mail, as cron sends it: a run that its job's MailOn says to mail (see
// store.MailOn.Mails) is sent to its recipients (store.Options.Recipients)
// through sendmail -t, which reads them from the To header. Mail is sent
// off the runs' path, by a few workers from a bounded queue, each sendmail
// bounded by MailTimeout: a slow or missing mailer never delays a job or
// the scheduler, and its failure is logged, never the run's.

const (
	// MailTimeout bounds one sendmail, and the shutdown's wait for the
	// mails still to send (exported for the man page).
	MailTimeout = 30 * time.Second
	// mailQueue bounds the mails waiting for a worker; when it is full, a
	// mail is dropped (and logged) rather than holding up the run.
	mailQueue   = 256
	mailWorkers = 2
	// MaxSubject bounds the command in a Subject, in characters: a long
	// command is cut (exported for the man page).
	MaxSubject = 120
)

// mailArgs are sendmail's arguments: -t takes the recipients from the
// headers, -oi keeps a line of a single dot from ending the mail. Every
// sendmail (Sendmail, Postfix, Exim, msmtp, OpenSMTPD) takes both.
var mailArgs = []string{"-t", "-oi"}

// mailSettings are the store's say in mail: Settings.MailTo and Sendmail,
// read at each planning transaction, so that a change to them (a jobfile
// applied) holds at once, and every scheduler of a fleet mails alike.
type mailSettings struct {
	to, sendmail string
}

// mailer sends the mails. settings is written by the loop (see act) and
// read by the runs' goroutines (post) and the mail workers (program); the
// queue is fed by the runs' goroutines until close, which follows the end
// of every run.
type mailer struct {
	s        *Scheduler
	settings atomic.Pointer[mailSettings]
	from     string // the user jobctl runs as, in From and Subject
	host     string
	queue    chan outgoing
	wg       sync.WaitGroup
	// ctx is done, by cancel, when the sendmails running are to be killed.
	ctx    context.Context
	cancel context.CancelFunc
}

// outgoing is one mail to send.
type outgoing struct {
	job, to string
	run     uint64
	msg     []byte
}

func newMailer(s *Scheduler) *mailer {
	m := &mailer{s: s, from: userName(), queue: make(chan outgoing, mailQueue)}
	m.host, _ = os.Hostname()
	m.settings.Store(&mailSettings{})
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for range mailWorkers {
		m.wg.Go(func() {
			for o := range m.queue {
				m.send(o)
			}
		})
	}
	return m
}

// userName is whom jobctl runs as, for From and Subject.
func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return strconv.Itoa(os.Getuid())
}

// configure takes the store's settings, at each planning.
func (m *mailer) configure(set store.Settings) {
	if cur := m.settings.Load(); cur.to != set.MailTo || cur.sendmail != set.Sendmail {
		m.settings.Store(&mailSettings{to: set.MailTo, sendmail: set.Sendmail})
	}
}

// post queues the mail of run r of job j, when j's options say to mail
// it; r has ended. It never blocks.
func (m *mailer) post(j *store.Job, r *store.Run) {
	to := j.Options.Recipients(store.Settings{MailTo: m.settings.Load().to})
	if to == "" || !j.Options.MailOn.Mails(r) {
		return
	}
	o := outgoing{job: j.ID, to: to, run: r.Seq, msg: composeMail(m.from, m.host, to, j, r)}
	select {
	case m.queue <- o:
	default:
		m.s.log.Warn("mail queue full: run not mailed", "job", j.ID, "run", r.Seq, "to", to)
	}
}

// program is the sendmail to run: the store's, else the Config's (see
// store.FindSendmail). It is found at each mail, so that a sendmail
// installed while the scheduler runs is used.
func (m *mailer) program() (string, error) {
	name := m.settings.Load().sendmail
	if name == "" {
		name = m.s.cfg.Sendmail
	}
	return store.FindSendmail(name)
}

// send runs sendmail for o, and logs how that went.
func (m *mailer) send(o outgoing) {
	log := m.s.log.With("job", o.job, "run", o.run, "to", o.to)
	if m.ctx.Err() != nil {
		log.Warn("run not mailed: the scheduler shut down first")
		return
	}
	prog, err := m.program()
	if err != nil {
		log.Warn("run not mailed: no sendmail (set [scheduler] sendmail in the jobfile, or install one)", "err", err)
		return
	}
	// Not a job's process: once sendmail has exited, what it left
	// running (a background delivery) is left to finish its work.
	ctx, cancel := context.WithTimeout(m.ctx, MailTimeout)
	defer cancel()
	out := newTail(4 << 10)
	cmd := exec.CommandContext(ctx, prog, mailArgs...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = m.s.cfg.Environ, bytes.NewReader(o.msg), out, out
	cmd.WaitDelay = time.Second // for the output of what it left running
	reaped, err := m.s.children.start(cmd)
	if err == nil {
		err = cmd.Wait()
		reaped()
	}
	if err != nil && !(errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState.Success()) {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("timed out after %s", MailTimeout)
		}
		log.Warn("run not mailed: sendmail failed", "sendmail", prog, "err", err, "output", strings.TrimSpace(out.String()))
		return
	}
	log.Info("run mailed", "sendmail", prog)
}

// close lets the queued mails be sent until ctx is done or MailTimeout
// has passed, then kills the sendmails still running, and waits for them.
func (m *mailer) close(ctx context.Context) {
	close(m.queue)
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(MailTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
	case <-t.C:
	}
	m.cancel()
	<-done
}

// composeMail writes the mail of run r of job j, from user on host to
// to, with the headers cronie writes: the output kept as the body, and a
// last line saying how a run that did not succeed ended. Every header
// value is cleaned of line breaks, so that no id, command or address can
// add headers of its own.
func composeMail(user, host, to string, j *store.Job, r *store.Run) []byte {
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + headerValue(value) + "\n") }
	header("From", user+" (jobctl)")
	header("To", to)
	cmd := headerValue(j.Command)
	if utf8.RuneCountInString(cmd) > MaxSubject {
		cmd = string([]rune(cmd)[:MaxSubject]) + "…"
	}
	header("Subject", mime.QEncoding.Encode("utf-8", fmt.Sprintf("jobctl <%s@%s> %s: %s", user, host, j.ID, cmd)))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "8bit")
	header("Auto-Submitted", "auto-generated")
	header("Precedence", "bulk")
	header("X-Jobctl-Job", j.ID)
	header("X-Jobctl-Run", strconv.FormatUint(r.Seq, 10))
	header("X-Jobctl-Outcome", string(r.Outcome))
	b.WriteString("\n")
	body := strings.ToValidUTF8(r.Output, "\uFFFD")
	b.WriteString(body)
	if body != "" && !strings.HasSuffix(body, "\n") {
		b.WriteString("\n")
	}
	if r.Outcome != store.Success {
		what := string(r.Outcome)
		if r.Reason != "" {
			what += ": " + r.Reason
		}
		if body != "" {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "jobctl: run %d of %s %s\n", r.Seq, j.ID, what)
	}
	return b.Bytes()
}

// headerValue is s on one line: each run of whitespace and control
// characters, line breaks included, is one space.
func headerValue(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
