package guest

import (
	"context"
	"log/slog"
	"strings"

	"github.com/dohost/dohost/abi"
	"github.com/dohost/dohost/host/internal/bigcopy"
	"github.com/dohost/dohost/host/internal/reqid"
	"github.com/tetratelabs/wazero/api"
)

// The host functions of results and responses: result_read, respond,
// fail and log.

// resultRead copies up to out_cap bytes of the pending result to out_ptr
// and returns the pending result's full length, or -code on error. It is
// the one host function that leaves the pending result as it is.
func resultRead(ctx context.Context, mod api.Module, s []uint64) {
	c := callFrom(ctx)
	if c == nil || c.kind == kindInit {
		s[0] = negCode(abi.BadState)
		return
	}
	ptr, capacity := uint32(s[0]), uint32(s[1])
	mem := mod.Memory()
	if uint64(ptr)+uint64(capacity) > uint64(mem.Size()) {
		s[0] = negCode(abi.BadPointer)
		return
	}
	data := c.pending
	n := min(uint64(capacity), uint64(len(data)))
	if n > 0 {
		copyOut(mem, ptr, data[:n], c.clock.tick)
	}
	s[0] = uint64(uint32(len(data)))
}

// negCode is the i32 result -code, for functions that return lengths.
func negCode(c abi.Code) uint64 { return uint64(uint32(-int32(c))) }

func respond(_ context.Context, c *Call, a *args) abi.Code {
	b := a.in()
	if c.responded {
		return c.errorf(abi.BadState, "respond was already called in this handler")
	}
	switch c.kind {
	case WorkerFetch, ObjectFetch:
		body, err := abi.CheckResponse(b)
		if err != nil {
			return c.errorf(abi.BadEncoding, "%v", err)
		}
		if limit := c.inst.m.limits.ResponseBody; int64(body) > limit {
			return c.errorf(abi.TooLarge, "response body of %d bytes is over the limit of %d", body, limit)
		}
		h, code := c.holdBody(len(b))
		if code != abi.OK {
			return code
		}
		c.respHold = h
	case Classes:
	default:
		return c.errorf(abi.BadState, "this handler gives no response")
	}
	c.Response = bigcopy.CloneBetween(b, c.clock.tick)
	c.responded = true
	return abi.OK
}

// maxFailure is how much of a failure message the host keeps.
const maxFailure = 4096

func fail(_ context.Context, c *Call, a *args) abi.Code {
	b := a.in()
	c.failure = strings.ToValidUTF8(string(b[:min(len(b), maxFailure)]), "\uFFFD")
	return abi.OK
}

// maxLogMessage is how much of one log call the host keeps.
const maxLogMessage = 8192

func logLine(ctx context.Context, c *Call, a *args) abi.Code {
	level, b := a.val(), a.in()
	var l slog.Level
	switch level {
	case abi.LogDebug:
		l = slog.LevelDebug
	case abi.LogInfo:
		l = slog.LevelInfo
	case abi.LogWarn:
		l = slog.LevelWarn
	case abi.LogError:
		l = slog.LevelError
	default:
		return c.errorf(abi.Invalid, "log level %d is not 0-3", level)
	}
	if c.inst.m.logLimit.allow() {
		logRequest(c.Log, l, strings.ToValidUTF8(string(b[:min(len(b), maxLogMessage)]), "\uFFFD"), reqid.From(ctx))
	}
	return abi.OK
}
