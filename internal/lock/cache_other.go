//go:build !unix

package lock

import "os"

// keyOf gives no identity where there are no inodes: nothing is cached.
func keyOf(os.FileInfo) (cacheKey, bool) { return cacheKey{}, false }
