//go:build !linux

package sockets

import (
	"errors"
	"net"
)

// poller is Linux's (poller_linux.go); elsewhere each socket has a
// goroutine that reads it.
type poller struct{}

func newPoller() (*poller, error)            { return nil, errors.New("no poller on this system") }
func (p *poller) add(*Socket, net.Conn) bool { return false }
func (p *poller) rearm(*Socket) error        { return nil }
func (p *poller) remove(*Socket)             {}
func (p *poller) close()                     {}
