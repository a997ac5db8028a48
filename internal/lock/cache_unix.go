//go:build unix

package lock

import (
	"os"
	"syscall"
)

// keyOf is the identity of the file fi describes.
func keyOf(fi os.FileInfo) (cacheKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return cacheKey{}, false
	}
	mtim, ctim := statTimes(st)
	return cacheKey{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: fi.Size(),
		MtimeNS: mtim.Nano(), CtimeNS: ctim.Nano()}, true
}
