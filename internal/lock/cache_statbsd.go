//go:build darwin || ios || freebsd || netbsd

package lock

import "syscall"

func statTimes(st *syscall.Stat_t) (mtim, ctim syscall.Timespec) { return st.Mtimespec, st.Ctimespec }
