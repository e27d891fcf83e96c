// Package listen reads the address jobctl run serves its dashboard on
// (--http, a jobfile's [scheduler] http): one reading for the flag, the
// jobfile's check and lint.
package listen

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Addr is the address jobctl run --http ADDR listens on: ADDR as
// host:port, or on the loopback interface when it gives a port only
// ("8080", ":8080": 127.0.0.1:8080), so that the dashboard is not served to
// the network unless a host says so ("0.0.0.0:8080", "[::]:8080"). Port 0
// picks a free port.
func Addr(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("empty address (want [HOST:]PORT, such as 8080 or 0.0.0.0:8080)")
	}
	hostPort := addr
	if !strings.Contains(addr, ":") {
		hostPort = ":" + addr
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return "", fmt.Errorf("%q is not [HOST:]PORT (such as 8080, 127.0.0.1:8080 or [::]:8080)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		if hostPort != addr {
			return "", fmt.Errorf("port %q is not a number from 0 to 65535", port)
		}
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.ContainsAny(host, " /\\@?#") {
		return "", fmt.Errorf("%q: host %q is not a host name or IP address", addr, host)
	}
	return net.JoinHostPort(host, port), nil
}
