package gguf

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// realistic writes the header of a GGUF file shaped like a real 7B model's:
// a 32,000-token vocabulary with scores and types, a chat template, and
// 291 tensor infos, followed by a data section of dataSize bytes (zeros
// when in memory).
func realistic(tensors int) (header []byte, dataSize uint64) {
	w := v3(uint64(tensors), 6)
	w.str("general.architecture").u32(uint32(TypeString)).str("llama")
	w.str("general.file_type").u32(uint32(TypeUint32)).u32(15)
	w.str("llama.context_length").u32(uint32(TypeUint32)).u32(4096)
	w.str("tokenizer.chat_template").u32(uint32(TypeString)).str("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}")
	const vocab = 32000
	w.str("tokenizer.ggml.tokens").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(vocab)
	for i := range vocab {
		w.str(fmt.Sprintf("tok%05d", i))
	}
	w.str("tokenizer.ggml.scores").u32(uint32(TypeArray)).u32(uint32(TypeFloat32)).u64(vocab)
	w.b = append(w.b, make([]byte, 4*vocab)...)
	var off uint64
	const size = 4096 * 4096 / 256 * 144 // a Q4_K 4096×4096 matrix
	for i := range tensors {
		w.str(fmt.Sprintf("blk.%d.ffn_down.weight", i)).u32(2).u64(4096).u64(4096).u32(12).u64(off)
		off += size
	}
	w.b = append(w.b, make([]byte, (32-len(w.b)%32)%32)...)
	return w.b, off
}

// BenchmarkParse reads a realistic header from memory: the vocabulary
// dominates.
func BenchmarkParse(b *testing.B) {
	hdr, _ := realistic(291)
	b.SetBytes(int64(len(hdr)))
	b.ReportAllocs()
	for b.Loop() {
		// Only the header is in memory: every tensor reads as out of range,
		// which costs nothing more to check.
		f, err := Read(context.Background(), bytes.NewReader(hdr), int64(len(hdr)), DefaultLimits, isTemplate)
		if err != nil || len(f.Tensors) != 291 {
			b.Fatal(err, len(f.Tensors))
		}
	}
}
