package gguf

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// largeGGUF writes a GGUF file of a little over 1 GiB shaped like a real
// quantised 7B model's: a 32,000-token vocabulary with scores, a chat
// template, and 110 Q4_K 4096×4096 tensors whose data is a hole in a
// sparse file.
func largeGGUF(t testing.TB, dir string) string {
	t.Helper()
	var b []byte
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	str := func(s string) { u64(uint64(len(s))); b = append(b, s...) }
	const tensors, vocab = 110, 32000
	b = append(b, "GGUF"...)
	u32(3)
	u64(tensors)
	u64(6)
	str("general.architecture")
	u32(8)
	str("llama")
	str("general.file_type")
	u32(4)
	u32(15)
	str("llama.context_length")
	u32(4)
	u32(4096)
	str("tokenizer.chat_template")
	u32(8)
	str("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}<|assistant|>\n")
	str("tokenizer.ggml.tokens")
	u32(9)
	u32(8)
	u64(vocab)
	for i := range vocab {
		str(fmt.Sprintf("tok%05d", i))
	}
	str("tokenizer.ggml.scores")
	u32(9)
	u32(6)
	u64(vocab)
	b = append(b, make([]byte, 4*vocab)...)
	const size = 4096 * 4096 / 256 * 144
	for i := range tensors {
		str(fmt.Sprintf("blk.%d.ffn_down.weight", i))
		u32(2)
		u64(4096)
		u64(4096)
		u32(12)
		u64(uint64(i) * size)
	}
	b = append(b, make([]byte, (32-len(b)%32)%32)...)
	p := filepath.Join(dir, "big.gguf")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(len(b)) + tensors*size); err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkScanLarge scans a 1 GiB GGUF file and reports how much of it
// was read.
func BenchmarkScanLarge(b *testing.B) {
	p := largeGGUF(b, b.TempDir())
	var read, size int64
	for b.Loop() {
		r := scan(b, p)
		if len(r.Findings) != 0 {
			b.Fatalf("findings on a valid file:\n%s", dump(r))
		}
		read, size = r.Stats.BytesRead, r.Stats.Bytes
	}
	b.ReportMetric(float64(read), "bytes-read/op")
	b.ReportMetric(100*float64(read)/float64(size), "%-of-file-read")
}
