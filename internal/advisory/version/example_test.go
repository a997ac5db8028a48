package version_test

import (
	"fmt"

	"github.com/chainvet/chainvet/internal/advisory/version"
)

func ExampleAffected() {
	// Two affected intervals: [1.0, 1.3) and [2.0, 2.4).
	ranges := []version.Range{{Type: "ECOSYSTEM", Events: []version.Event{
		{Introduced: "1.0"}, {Fixed: "1.3"}, {Introduced: "2.0"}, {Fixed: "2.4"},
	}}}
	for _, v := range []string{"1.2", "1.5", "2.4rc1", "2.4"} {
		hit, err := version.Affected("PyPI", v, ranges, nil)
		fmt.Println(v, hit, err)
	}
	fix, ok := version.SmallestFix("PyPI", "2.1", [][]version.Range{ranges})
	fmt.Println("upgrade to", fix, ok)
	// Output:
	// 1.2 true <nil>
	// 1.5 false <nil>
	// 2.4rc1 true <nil>
	// 2.4 false <nil>
	// upgrade to 2.4 true
}
