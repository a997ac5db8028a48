package pickle

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
)

// safetensorsHead is the start of a safetensors file: a little-endian
// header length, then the JSON header.
func safetensorsHead(n uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return string(b[:]) + `{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
}

func TestSniff(t *testing.T) {
	// A protocol-0 pickle longer than a head: only its start is seen.
	var long strings.Builder
	long.WriteString("(lp0\n")
	for i := range 400 {
		long.WriteString("S'item number " + strings.Repeat("x", i%30) + "'\np" + string(rune('1'+i%9)) + "\na")
	}
	long.WriteString(".")
	tests := []struct {
		name string
		head string
		want bool
	}{
		{"os_system_proto0", "cos\nsystem\n(S'true'\ntR.", true},
		{"none", "N.", true},
		{"int", "I1\n.", true},
		{"proto4_frame", "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00", true},
		{"proto2", "\x80\x02}q\x00.", true},
		{"proto0_cut_by_head", long.String()[:4096], true},
		{"proto1_list", "]q\x00(K\x01K\x02e.", true},
		{"empty", "", false},
		{"readme", "# chainvet\n\nVets the supply chain of AI software.\n", false},
		{"json", `{"name": "model", "version": 1}`, false},
		{"json_array", "[1, 2, 3]", false},
		{"python", "import os\n\ndef main():\n    os.system('x')\n", false},
		{"python_from", "from os import system\n", false},
		{"python_class", "class Model:\n    pass\n", false},
		{"csv", "name,age\nbob,3\n", false},
		{"yaml", "---\nkey: value\nlist:\n  - a\n", false},
		{"shell", "#!/bin/sh\necho hi\n", false},
		{"html", "<!DOCTYPE html><html></html>", false},
		{"prose_I", "I think this is fine.\n", false},
		{"prose_N", "No pickle here.\n", false},
		{"prose_c", "cat notes\nmore notes\n", false},
		{"prose_S", "Sure, here it is\n", false},
		{"prose_paren", "(see below)\n", false},
		{"elf", "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00", false},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!\x00data.pkl", false},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", false},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", false},
		{"gguf", "GGUF\x03\x00\x00\x00\x23\x01\x00\x00\x00\x00\x00\x00\x18\x00\x00\x00\x00\x00\x00\x00", false},
		{"npy", "\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", false},
		{"safetensors_X", safetensorsHead('X'), false},
		{"safetensors_N", safetensorsHead('N'), false},
		{"safetensors_mark", safetensorsHead('('), false},
		{"safetensors_list", safetensorsHead(']'), false},
		{"safetensors_c", safetensorsHead('c'), false},
		{"safetensors_proto", safetensorsHead(0x0280), false},
		{"safetensors_proto_high", safetensorsHead(0x2880), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff([]byte(tt.head)); got != tt.want {
				t.Errorf("Sniff(%.30q) = %v, want %v", tt.head, got, tt.want)
			}
		})
	}
}

func TestSniffFixtures(t *testing.T) {
	// Every pickle CPython, torch and joblib wrote, protocols 0 to 5.
	files, _ := filepath.Glob("testdata/*.*")
	for _, f := range files {
		if strings.HasSuffix(f, ".py") {
			continue
		}
		b := readFixture(t, filepath.Base(f))
		if !Sniff(b[:min(len(b), 4096)]) {
			t.Errorf("Sniff(%s) = false", f)
		}
	}
}
