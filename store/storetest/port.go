package storetest

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
)

// FreePort is a TCP port on 127.0.0.1 that nothing listens on, for a server a
// test starts as a separate process (redis-server, an idp). It is chosen below
// the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768 and up by
// default): a port the kernel handed out for port 0 and then released can be
// taken at any moment as the local port of another test's outgoing connection,
// and the server's bind then fails with "address already in use". Ports come
// from one sequence per test binary, offset by the process id, so the test
// binaries that run at once start from different places.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 500 {
		p := 10000 + int((nextPort.Add(1)+int64(os.Getpid())*37)%22000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatal("no free TCP port below the ephemeral range")
	return 0
}

var nextPort atomic.Int64
