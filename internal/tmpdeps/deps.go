// Package tmpdeps keeps dependencies in go.mod while their users are written. Removed before landing.
package tmpdeps

import (
	_ "github.com/bodgit/sevenzip"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/spf13/cobra"
	_ "github.com/ulikunitz/xz"
	_ "github.com/ulikunitz/xz/lzma"
)
