package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrDataDirInUse is the cause of New's failure when another process
// holds the data directory.
var ErrDataDirInUse = errors.New("host: data directory in use")

// lockFile is the file in the data directory whose lock says which
// process uses it, and which holds that process's pid.
const lockFile = "dohost.lock"

// lockDataDir takes the data directory for this process: an exclusive,
// non-blocking flock on its lock file, which then holds this process's
// pid. The lock lasts until the file is closed (or the process ends, even
// by kill -9). A directory another dohost holds is refused with its pid.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b, _ := os.ReadFile(path)
			pid := strings.TrimSpace(string(b))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("%w: %s is in use by another dohost (pid %s); stop it or give this one another --data", ErrDataDirInUse, dir, pid)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
