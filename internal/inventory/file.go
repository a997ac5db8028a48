package inventory

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sync/atomic"
)

// HeadSize is how many leading bytes of every file are read for selection.
const HeadSize = 4096

// TailSize is how many trailing bytes of every file are read for selection:
// enough to hold a zip end-of-central-directory record with the longest
// comment the format allows (22 + 65535 bytes), so that a zip appended to
// another file is seen wherever its directory starts.
const TailSize = 22 + 65535

// A File is a file on disk or a member of an archive, as the pipeline hands
// it to catalogers. Reads through it are counted in the report's stats.
type File struct {
	// Path is the display path: a path on disk, or for an archive member
	// the archive's Path, "!", and the member's name.
	Path string
	// Name is the last element of the file's own name, for catalogers that
	// also consider conventional names. Content decides; names only add.
	Name string
	// Size is the file's length in bytes.
	Size int64
	// Head holds the first min(Size, HeadSize) bytes.
	Head []byte
	// Tail holds the last bytes of the file that Head does not, at most
	// TailSize of them. It is empty when Head holds the whole file.
	Tail []byte
	// Depth is 0 for files on disk and n for members of an archive nested n deep.
	Depth int
	// Component is the ID of the component this file is part of, when a
	// cataloger handed it back as a member of something it catalogued.
	Component string

	ra   io.ReaderAt
	read *atomic.Int64
}

// NewFile makes a File reading from ra, which holds size bytes. It reads the
// head and tail; read counts every byte read through the file and may be nil.
func NewFile(p string, ra io.ReaderAt, size int64, read *atomic.Int64) (*File, error) {
	if read == nil {
		read = new(atomic.Int64)
	}
	f := &File{Path: p, Name: path.Base(p), Size: size, ra: ra, read: read}
	// Read into locals: ReadAt serves from Head and Tail once they are set.
	n := min(size, HeadSize)
	head := make([]byte, n)
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: reading head: %w", p, err)
	}
	if size > n {
		t := min(size-n, TailSize)
		tail := make([]byte, t)
		if _, err := f.ReadAt(tail, size-t); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: reading tail: %w", p, err)
		}
		f.Tail = tail
	}
	f.Head = head
	return f, nil
}

// ReadAt reads from the file, counting what it reads.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", f.Path, off)
	}
	if off >= f.Size {
		return 0, io.EOF
	}
	// Serve reads that fall inside the head or the tail from memory: most
	// small files are read whole by the time a cataloger sees them.
	end := off + int64(len(p))
	if f.Head != nil && end <= int64(len(f.Head)) {
		return copy(p, f.Head[off:end]), nil
	}
	if ts := f.Size - int64(len(f.Tail)); f.Tail != nil && off >= ts && end <= f.Size {
		return copy(p, f.Tail[off-ts:end-ts]), nil
	}
	if rest := f.Size - off; int64(len(p)) > rest {
		n, err := f.ra.ReadAt(p[:rest], off)
		f.read.Add(int64(n))
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	n, err := f.ra.ReadAt(p, off)
	f.read.Add(int64(n))
	return n, err
}

// Member makes a File of an archive member named name, whose bytes ra holds.
// Reads through the member are not counted again: a member's bytes come
// either through f's ReadAt, which counts them, or from a buffer in memory.
func (f *File) Member(name string, ra io.ReaderAt, size int64) (*File, error) {
	m, err := NewFile(f.Path+"!"+name, ra, size, new(atomic.Int64))
	if err != nil {
		return nil, err
	}
	m.Name = path.Base(name)
	m.Depth = f.Depth + 1
	m.Component = f.Component
	return m, nil
}

// Whole reports whether Head holds the entire file.
func (f *File) Whole() bool { return int64(len(f.Head)) == f.Size }
