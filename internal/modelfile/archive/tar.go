package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/chainvet/chainvet/internal/inventory"
)

// tar expands a tar archive. Member data is not copied: archive/tar seeks
// over data nobody reads, and each regular member is handed over as a
// section of the file. Sparse members, whose data is not one run of bytes,
// are expanded into a spool.
func (x *expander) tar() error {
	f := x.f
	sr := io.NewSectionReader(f, 0, f.Size)
	tr := tar.NewReader(sr)
	for n := 0; ; n++ {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if n >= x.lim.Entries {
			x.entryLimit("tar")
			return nil
		}
		at, _ := sr.Seek(0, io.SeekCurrent)
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("truncated")
			}
			x.report(ruleMalformed, f.Path, at, fmt.Sprintf("tar header after offset %d: %v", at, err),
				"the tar archive is malformed or truncated: the members before the break were scanned",
				"obtain an intact copy; readers differ on what follows the break")
			return nil
		}
		start, _ := sr.Seek(0, io.SeekCurrent)
		if stop, err := x.tarMember(tr, h, at, start); stop || err != nil {
			return err
		}
	}
}

// tarMember handles one tar entry whose headers begin at hdrAt and data at
// start. stop says the archive ends here (its data is truncated).
func (x *expander) tarMember(tr *tar.Reader, h *tar.Header, hdrAt, start int64) (stop bool, err error) {
	f := x.f
	name, copyN := x.names.unique(h.Name)
	p := memberPath(f, name)
	if copyN > 1 {
		x.report(ruleDuplicate, p, hdrAt,
			fmt.Sprintf("%s appears %s time (header at offset %d), scanned as %s", quote(h.Name), ordinal(copyN), hdrAt, quote(name)),
			"the archive holds several members of this name: extracting it keeps the last; every copy was scanned",
			"rebuild the archive with one member per name, and find out where the other copy came from")
	}
	x.checkName(h.Name, p, hdrAt)
	switch h.Typeflag {
	case tar.TypeSymlink, tar.TypeLink:
		kind := "symbolic link"
		if h.Typeflag == tar.TypeLink {
			kind = "hard link"
		}
		x.report(ruleLink, p, hdrAt, fmt.Sprintf("%s %s → %s", kind, quote(h.Name), quote(h.Linkname)),
			"the archive holds a link: extracting it can make later members write through it, outside the folder; it was not followed",
			"extract with a tool that refuses links, or remove the link from the archive")
		return false, nil
	case tar.TypeXGlobalHeader:
		return false, nil
	case tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if h.Size == 0 {
			return false, nil
		}
	}
	if sparse(h) {
		sp, err := fill(x.ctx, tr, f.Size, x.lim, x.b)
		if err != nil {
			return false, err
		}
		defer sp.release()
		x.spoolFindings(p, sp, "expanding sparse tar member")
		return false, x.hand(name, sp.ra, sp.size)
	}
	size := h.Size
	if start+size > f.Size {
		size = max(0, f.Size-start)
		x.report(ruleMalformed, p, hdrAt, fmt.Sprintf("member of %d bytes at offset %d is truncated to %d", h.Size, start, size),
			"the tar archive is truncated: the part of the member that is there was scanned",
			"obtain an intact copy")
		stop = true
	}
	return stop, x.hand(name, io.NewSectionReader(f, start, size), size)
}

// sparse reports whether a tar member's data is a sparse map rather than
// one run of bytes.
func sparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// A TarEntry is a tar member as its header describes it.
type TarEntry struct {
	Name   string
	Offset int64 // where its data starts
	Size   int64
}

// TarEntries lists a tar archive's members, up to lim.Entries, reading
// headers only. A malformed archive yields the members before the break;
// the break itself is Expand's to report.
func TarEntries(ctx context.Context, f *inventory.File, lim Limits) ([]TarEntry, error) {
	lim = lim.withDefaults()
	sr := io.NewSectionReader(f, 0, f.Size)
	tr := tar.NewReader(sr)
	var out []TarEntry
	for len(out) < lim.Entries {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		h, err := tr.Next()
		if err != nil {
			return out, nil
		}
		at, _ := sr.Seek(0, io.SeekCurrent)
		out = append(out, TarEntry{Name: h.Name, Offset: at, Size: h.Size})
	}
	return out, nil
}
