package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat and /proc/stat
// (USER_HZ, 100 on every Linux architecture Go supports).
const userHZ = 100

// cpuSample is a reading of the CPU time used so far by the server process,
// this driver and the whole machine.
type cpuSample struct {
	server       time.Duration // -1 when the server is not a separate process
	driver       time.Duration
	busy, total  int64 // machine-wide jiffies
	machineKnown bool
}

// cpuUsage is the difference of two samples: CPU used during a scenario.
type cpuUsage struct {
	server, driver time.Duration
	busyFrac       float64 // share of all cores busy (PostgreSQL and Redis included)
	known          bool
}

// sampleCPU reads the CPU clocks; serverPID 0 means the server runs in this
// process (or elsewhere) and is not measured apart.
func sampleCPU(serverPID int) cpuSample {
	s := cpuSample{server: -1}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.driver = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if serverPID > 0 {
		if t, err := processCPU(serverPID); err == nil {
			s.server = t
		}
	}
	s.busy, s.total, s.machineKnown = machineCPU()
	return s
}

func (a cpuSample) to(b cpuSample) cpuUsage {
	u := cpuUsage{server: -1, driver: b.driver - a.driver, known: true}
	if a.server >= 0 && b.server >= 0 {
		u.server = b.server - a.server
	}
	if a.machineKnown && b.machineKnown && b.total > a.total {
		u.busyFrac = float64(b.busy-a.busy) / float64(b.total-a.total)
	}
	return u
}

func (u cpuUsage) perOp(d time.Duration, ops int) string {
	if !u.known || d < 0 || ops == 0 {
		return "-"
	}
	return ms(d / time.Duration(ops))
}

func (u cpuUsage) busy() string {
	if !u.known || u.busyFrac == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*u.busyFrac)
}

// processCPU is the user+system CPU time of a process from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it follow ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// machineCPU returns busy and total jiffies of all cores from /proc/stat.
func machineCPU() (busy, total int64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, false
	}
	var v []int64
	for _, x := range f[1:] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		v = append(v, n)
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
	for i, n := range v {
		if i >= 8 {
			break
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, true
}

// rssNowKiB reads a process's resident memory from /proc/<pid>/statm, which
// the kernel makes more cheaply than status: the sampler reads it five times
// a second while load runs, on the driver's CPU.
func rssNowKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("unexpected /proc/%d/statm", pid)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/statm", pid)
	}
	return pages * int64(os.Getpagesize()) / 1024, nil
}

// rssKiB reads VmRSS (resident now) and VmHWM (peak) of a process in KiB.
func rssKiB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}
