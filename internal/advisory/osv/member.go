package osv

import (
	"archive/zip"
	"fmt"
	"io"
)

// ReadMember reads and parses one record of an OSV all.zip, refusing an
// oversized member before inflating it; it returns the record and its raw
// JSON.
func ReadMember(zf *zip.File) (*Record, []byte, error) {
	if zf.UncompressedSize64 > MaxRecordSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, over the %d byte limit", ErrInvalid, zf.UncompressedSize64, MaxRecordSize)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open member: %w", err)
	}
	defer rc.Close()
	// The header's size may lie; the limit holds on what is inflated.
	raw, err := io.ReadAll(io.LimitReader(rc, MaxRecordSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read member: %w", err)
	}
	rec, err := Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	return rec, raw, nil
}
