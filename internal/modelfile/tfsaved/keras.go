package tfsaved

import (
	"context"
	"fmt"
	"io"

	"github.com/chainvet/chainvet/internal/modelfile/protowire"
)

// Field numbers of Keras's saved_metadata.proto.
const (
	kerasNodes      = 1
	kerasNodePath   = 3
	kerasIdentifier = 4
	kerasMetadata   = 5
)

// MaxKerasMetadata bounds one object's metadata JSON: Keras writes a layer's
// config there, a few KB for real layers.
const MaxKerasMetadata = 4 << 20

// maxKerasObjects bounds the objects read from keras_metadata.pb.
const maxKerasObjects = 1 << 16

// maxKerasTotal bounds the metadata JSON kept from one file, so that many
// large objects cannot exhaust memory.
const maxKerasTotal = 64 << 20

// A KerasObject is one entry of keras_metadata.pb: a Keras object of the
// SavedModel and its metadata, the JSON config Keras rebuilds it from.
type KerasObject struct {
	Path       string // "root", "root.layer-1"
	Identifier string // "_tf_keras_sequential", "_tf_keras_layer"
	Metadata   string // JSON
	Offset     int64
}

// KerasMetadata reads keras_metadata.pb. The metadata JSON is what
// keras.models.load_model deserializes layers from, Lambda layers
// included: hand it to the Keras config checks.
func KerasMetadata(ctx context.Context, r io.ReaderAt, size int64, lim Limits) ([]KerasObject, error) {
	lim = withDefaults(lim)
	p := &parser{lim: lim}
	msg := protowire.NewDecoder(ctx, r, size, lim.Wire).Root()
	var out []KerasObject
	total := 0
	for {
		f, err := msg.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("tfsaved: keras metadata: %w", err)
		}
		if f.Num != kerasNodes || f.Type != protowire.Bytes {
			continue
		}
		if len(out) >= maxKerasObjects {
			return out, fmt.Errorf("tfsaved: keras metadata: %w", limitErr(f.Offset, "more than %d objects", maxKerasObjects))
		}
		o := KerasObject{Offset: f.Offset}
		err = each(msg, f, func(m *protowire.Message, e protowire.Field) error {
			if e.Type != protowire.Bytes {
				return nil
			}
			var err error
			switch e.Num {
			case kerasNodePath:
				o.Path, err = p.str(m, e)
			case kerasIdentifier:
				o.Identifier, err = p.str(m, e)
			case kerasMetadata:
				if total += int(min(e.Len, MaxKerasMetadata+1)); total > maxKerasTotal {
					return limitErr(e.Offset, "more than %d bytes of metadata", maxKerasTotal)
				}
				var b []byte
				b, err = m.Bytes(e, MaxKerasMetadata)
				o.Metadata = string(b)
			}
			return err
		})
		if err != nil {
			return out, fmt.Errorf("tfsaved: keras metadata: %w", err)
		}
		out = append(out, o)
	}
}
