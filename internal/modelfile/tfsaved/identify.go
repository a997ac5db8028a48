package tfsaved

import (
	"context"
	"errors"
	"io"

	"github.com/chainvet/chainvet/internal/modelfile/protowire"
)

// identifyFields bounds the fields Identify looks at.
const identifyFields = 16

// IdentifySavedModel reports whether head, the first bytes of a file of
// size bytes, starts like a SavedModel: only saved_model_schema_version
// (a small varint) and meta_graphs at the top, and a meta graph that opens
// with one of MetaGraphDef's fields. It reads no more than head.
func IdentifySavedModel(head []byte, size int64) bool {
	msg := headMessage(head, size)
	sawMeta := false
	for i := 0; ; i++ {
		f, err := msg.Next()
		if err != nil {
			return sawMeta && endOfHead(err, len(head))
		}
		switch {
		case f.Num == savedSchemaVersion && f.Type == protowire.Varint && f.Value <= 16:
		case f.Num == savedMetaGraphs && f.Type == protowire.Bytes:
			if !sawMeta && !opensWith(head, f, map[byte]bool{0x0a: true, 0x12: true, 0x1a: true, 0x22: true, 0x2a: true, 0x32: true, 0x3a: true}) {
				return false
			}
			sawMeta = true
		default:
			return false
		}
	}
}

// IdentifyGraphDef reports whether head starts like a GraphDef: a node
// field whose NodeDef opens with its name, followed by its op.
func IdentifyGraphDef(head []byte, size int64) bool {
	msg := headMessage(head, size)
	f, err := msg.Next()
	if err != nil || f.Num != graphNode || f.Type != protowire.Bytes || f.Start+2 > int64(len(head)) {
		return false
	}
	sub, err := msg.Sub(f)
	if err != nil {
		return false
	}
	name, err := sub.Next()
	if err != nil || name.Num != nodeName || name.Type != protowire.Bytes || name.Len == 0 {
		return false
	}
	op, err := sub.Next()
	return err == nil && op.Num == nodeOp && op.Type == protowire.Bytes && op.Len > 0
}

// opensWith reports whether the payload of f starts, within head, with one
// of the given tag bytes.
func opensWith(head []byte, f protowire.Field, tags map[byte]bool) bool {
	if f.Len == 0 {
		return false
	}
	if f.Start >= int64(len(head)) {
		return true // cut by the head: nothing to contradict it
	}
	return tags[head[f.Start]]
}

func headMessage(head []byte, size int64) *protowire.Message {
	return protowire.NewDecoder(context.Background(), headReader(head), max(size, int64(len(head))),
		protowire.Limits{Depth: 4, Fields: identifyFields}).Root()
}

// endOfHead reports whether err ends a walk that saw nothing wrong: the end
// of the file, the field budget, or bytes past the head.
func endOfHead(err error, n int) bool {
	if err == io.EOF || errors.Is(err, protowire.ErrLimit) {
		return true
	}
	var pe *protowire.Error
	return errors.As(err, &pe) && pe.Offset >= int64(n)
}

type headReader []byte

func (b headReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
