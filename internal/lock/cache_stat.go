//go:build unix && !(darwin || ios || freebsd || netbsd)

package lock

import "syscall"

func statTimes(st *syscall.Stat_t) (mtim, ctim syscall.Timespec) { return st.Mtim, st.Ctim }
