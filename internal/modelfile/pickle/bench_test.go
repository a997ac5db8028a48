package pickle

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"strconv"
	"testing"
)

// bigPickle assembles the protocol-4 pickle CPython writes for a list of
// items small ints, floats and short distinct strings (eight ints, one
// float, one string in every ten): EMPTY_LIST, then batches of a thousand
// items between MARK and APPENDS, strings memoized, all in frames of about
// 64 KiB cut between items, as CPython's framer does.
func bigPickle(items int) []byte {
	var out, fr bytes.Buffer
	out.WriteString("\x80\x04")
	commit := func(force bool) {
		if fr.Len() >= 64<<10 || (force && fr.Len() > 0) {
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(fr.Len()))
			out.WriteByte(opFrame)
			out.Write(n[:])
			out.Write(fr.Bytes())
			fr.Reset()
		}
	}
	fr.WriteString(emptyList + memoize)
	for i := 0; i < items; i++ {
		if i%1000 == 0 {
			if i > 0 {
				fr.WriteString(appends)
			}
			commit(false)
			fr.WriteString(mark)
		}
		switch i % 10 {
		case 8:
			var f [8]byte
			binary.BigEndian.PutUint64(f[:], math.Float64bits(float64(i)/3))
			fr.WriteByte(opBinFloat)
			fr.Write(f[:])
		case 9:
			// SHORT_BINUNICODE of "s" and seven digits, then MEMOIZE.
			digits := strconv.AppendInt(nil, int64(10000000+i%10000000), 10)[1:]
			fr.Write([]byte{opShortBinUnicode, 8, 's'})
			fr.Write(digits)
			fr.WriteByte(opMemoize)
		default:
			fr.WriteString(binint1(byte(i)))
		}
	}
	if items > 0 {
		fr.WriteString(appends)
	}
	fr.WriteString(stop)
	commit(true)
	return out.Bytes()
}

// benchItems makes bigPickle write about 9M opcodes and 28 MB.
const benchItems = 8_200_000

func BenchmarkScan(b *testing.B) {
	data := bigPickle(benchItems)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var ops int64
	for b.Loop() {
		res, err := Scan(context.Background(), bytes.NewReader(data), int64(len(data)), Options{})
		if err != nil || res.Malformed != nil || res.Limit != "" || res.Pickles != 1 {
			b.Fatalf("scan failed: %v %+v %q", err, res.Malformed, res.Limit)
		}
		ops += res.Opcodes
	}
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "opcodes/s")
}

func BenchmarkScanTorchStateDict(b *testing.B) {
	data := readFixture(b, "torch_convnet_state_dict.pkl")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := Scan(context.Background(), bytes.NewReader(data), int64(len(data)), Options{Pickles: 1})
		if err != nil || res.Malformed != nil {
			b.Fatal(err, res.Malformed)
		}
	}
}

func BenchmarkSniff(b *testing.B) {
	heads := [][]byte{
		[]byte("# README\n\nSome text that is no pickle at all.\n"),
		readFixture(b, "proto0_benign.pkl"),
		readFixture(b, "proto1_benign.pkl"),
	}
	for b.Loop() {
		for _, h := range heads {
			Sniff(h)
		}
	}
}
