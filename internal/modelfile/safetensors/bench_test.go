package safetensors

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParse reads the header of a file shaped like a real checkpoint
// shard: 1,000 BF16 tensors and a few metadata entries.
func BenchmarkParse(b *testing.B) {
	var h strings.Builder
	h.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off uint64
	for i := range 1000 {
		fmt.Fprintf(&h, `,"model.layers.%d.mlp.down_proj.weight":{"dtype":"BF16","shape":[8,4],"data_offsets":[%d,%d]}`, i, off, off+64)
		off += 64
	}
	h.WriteString("}")
	file := header(h.String(), int(off))
	b.SetBytes(int64(h.Len()))
	b.ReportAllocs()
	for b.Loop() {
		hd, err := Read(context.Background(), bytes.NewReader(file), int64(len(file)), DefaultLimits)
		if err != nil || len(hd.Problems) != 0 || len(hd.Tensors) != 1000 {
			b.Fatalf("%v %+v", err, hd.Problems)
		}
	}
}
