package faults

import (
	"github.com/councilforms/idp/store/storetest"

	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireServices is set by the test script: a missing tool is a failure, not a skip.
var requireServices = os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1"

// missing skips t, or fails it when the test script requires every service.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if requireServices {
		t.Fatalf("fault suite: "+format, args...)
	}
	t.Skipf("fault suite: "+format, args...)
}

// freePort is a TCP port for a process the suite starts (storetest.FreePort).
func freePort(t testing.TB) int { return storetest.FreePort(t) }

// scratchDir is a temporary directory that the postgres user may use too (t.TempDir
// lives under a directory only root may enter).
func scratchDir(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "idp-faults-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// waitFor polls cond every 50 ms until it holds or the deadline passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail is the end of a log file, for failure messages.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// processState is the state letter of /proc/PID/stat: R, S, D, T (stopped), Z, ...
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// signalAndConfirm sends sig to pid and, for SIGSTOP, waits until the kernel reports
// the process stopped, so that the fault is in place when the call returns.
func signalAndConfirm(t testing.TB, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill -%d %d: %v", sig, pid, err)
	}
	if sig == syscall.SIGSTOP && !waitFor(5*time.Second, func() bool { return processState(pid) == "T" }) {
		t.Fatalf("process %d not stopped after SIGSTOP (state %q)", pid, processState(pid))
	}
}

// Postgres is a throwaway PostgreSQL cluster of the test's own.
type Postgres struct {
	t    testing.TB
	bin  string   // directory of initdb, pg_ctl
	as   []string // runuser -u postgres -- when running as root
	dir  string
	data string
	Port int
	URL  string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
}

// pgBin finds initdb and pg_ctl as .ci/test does: on the PATH, else the newest
// /usr/lib/postgresql/*/bin.
func pgBin() (string, bool) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), true
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, true
		}
	}
	return "", false
}

func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

// StartPostgres initialises a cluster in a temporary directory and starts it on a
// free port; it is stopped (immediately) when the test ends.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, ok := pgBin()
	if !ok {
		missing(t, "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
	}
	p := &Postgres{t: t, bin: bin, dir: scratchDir(t, "pg")}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "running as root needs a 'postgres' user to start a throwaway PostgreSQL")
		}
		uid, _ := strconv.Atoi(u.Uid)
		if err := os.Chown(p.dir, uid, -1); err != nil {
			t.Fatal(err)
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	p.data = filepath.Join(p.dir, "data")
	if out, err := p.run("initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Port = freePort(t)
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	p.Start()
	t.Cleanup(func() {
		p.Resume() // a stopped postmaster would not hear pg_ctl
		p.run("pg_ctl", "-D", p.data, "-m", "immediate", "stop")
	})
	return p
}

func (p *Postgres) run(tool string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, p.as...), filepath.Join(p.bin, tool)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// Start starts the (stopped) server and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.Port, p.dir)
	if out, err := p.run("pg_ctl", "-D", p.data, "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30", "-o", opts, "start"); err != nil {
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, tail(filepath.Join(p.dir, "log"), 20))
	}
}

// Stop shuts the server down (fast: open connections are closed at once).
func (p *Postgres) Stop() {
	p.t.Helper()
	if out, err := p.run("pg_ctl", "-D", p.data, "-m", "fast", "-w", "stop"); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// processes are the postmaster and its children (one backend per connection), the
// postmaster first.
func (p *Postgres) processes() []int {
	b, err := os.ReadFile(filepath.Join(p.data, "postmaster.pid"))
	if err != nil {
		return nil
	}
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return nil
	}
	pids := []int{pm}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pm) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// Pause freezes the server (SIGSTOP to the postmaster and every backend): connections
// stay open and nothing answers, as on a hung host.
func (p *Postgres) Pause() {
	p.t.Helper()
	for _, pid := range p.processes() {
		signalAndConfirm(p.t, pid, syscall.SIGSTOP)
	}
}

// Resume undoes Pause (SIGCONT), backends first.
func (p *Postgres) Resume() {
	ps := p.processes()
	for i := len(ps) - 1; i >= 0; i-- {
		syscall.Kill(ps[i], syscall.SIGCONT)
	}
}

// Redis is a throwaway redis-server of the test's own.
type Redis struct {
	t    testing.TB
	dir  string
	Port int
	URL  string // redis://127.0.0.1:PORT/0
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts redis-server on a free port without persistence; it is killed
// when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing(t, "redis-server is not installed (apt-get install redis-server)")
	}
	r := &Redis{t: t, dir: scratchDir(t, "redis"), Port: freePort(t)}
	r.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port)
	r.Start()
	t.Cleanup(func() {
		if r.cmd != nil {
			syscall.Kill(r.cmd.Process.Pid, syscall.SIGCONT)
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// Start starts the (stopped) server on its port and waits until it answers PING.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.done)
	if !waitFor(10*time.Second, r.answers) {
		r.t.Fatalf("redis-server did not answer PING\n%s", tail(filepath.Join(r.dir, "log"), 20))
	}
}

// answers reports whether PING gets PONG within a second.
func (r *Redis) answers() bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	return err == nil && bytes.HasPrefix(line, []byte("+PONG"))
}

// Stop kills the server (SIGKILL: every key is lost, as when Redis crashes without
// persistence).
func (r *Redis) Stop() {
	r.t.Helper()
	syscall.Kill(r.cmd.Process.Pid, syscall.SIGCONT)
	r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// Pause freezes the server (SIGSTOP): connections stay open, the kernel still accepts
// new ones, and nothing answers.
func (r *Redis) Pause() {
	r.t.Helper()
	signalAndConfirm(r.t, r.cmd.Process.Pid, syscall.SIGSTOP)
}

// Resume undoes Pause (SIGCONT).
func (r *Redis) Resume() {
	r.t.Helper()
	if err := syscall.Kill(r.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		r.t.Fatalf("SIGCONT redis: %v", err)
	}
}
