package guest

import (
	"context"

	"github.com/dohost/dohost/abi"
)

// The host functions of alarms: alarm_get, alarm_set and alarm_delete.
// Each acts on the alarm of the object whose handler runs.

func alarmGet(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	at, ok, err := st.Alarm(c.Txn)
	if err != nil {
		return c.storeError(err)
	}
	if !ok {
		return abi.NotFound
	}
	a.mem.WriteUint64Le(a.ptr(), uint64(at))
	return abi.OK
}

// maxAlarmTime is the latest alarm time a guest may set, in unix
// milliseconds: 2^53, the largest integer a JavaScript number holds
// exactly (the year 287396).
const maxAlarmTime = 1 << 53

func alarmSet(_ context.Context, c *Call, a *args) abi.Code {
	st := c.Storage
	if !c.inst.m.Has(abi.ExportObjectAlarm) {
		return c.errorf(abi.BadState, "the module exports no %s handler to run the alarm", abi.ExportObjectAlarm)
	}
	at, _ := a.mem.ReadUint64Le(a.ptr())
	if int64(at) < 0 || at > maxAlarmTime {
		return c.errorf(abi.Invalid, "alarm time %d is not a time in unix milliseconds", int64(at))
	}
	if code := c.charge(0, 0); code != abi.OK {
		return code
	}
	if err := st.SetAlarm(c.Txn, int64(at)); err != nil {
		return c.storeError(err)
	}
	c.AlarmChanged, c.alarmSet = true, true
	return abi.OK
}

func alarmDelete(_ context.Context, c *Call, _ *args) abi.Code {
	st := c.Storage
	if code := c.charge(0, 0); code != abi.OK {
		return code
	}
	if err := st.DeleteAlarm(c.Txn); err != nil {
		return c.storeError(err)
	}
	c.AlarmChanged, c.alarmSet = true, true
	return abi.OK
}
