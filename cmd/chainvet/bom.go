package main

import (
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

type bomFlags struct {
	out  output
	pipe pipelineFlags
	push pushFlags
}

func newBOM(stdout, stderr io.Writer) *cobra.Command {
	var f bomFlags
	c := &cobra.Command{
		Use:   "bom PATH...",
		Short: "Write the AI-BOM of a project: packages, models, datasets, services, plugins, CI and containers",
		Long: `bom walks every PATH with the same catalogers as scan and writes the
inventory — every package, model, dataset, external AI service, agent plugin,
CI dependency and container image, with identities (purls), digests,
locations and dependency edges — as CycloneDX 1.6 (an ML-BOM), SPDX 2.3 or
chainvet's own JSON. Findings are not part of a BOM: use scan for those.

Model files are hashed by default (--digests=false to skip): a BOM pins
exact bytes.`,
		Example: `  chainvet bom . > bom.cdx.json
  chainvet bom -o spdx-json --file bom.spdx.json ./service
  chainvet bom -o cyclonedx-xml --digests=false ~/.cache/huggingface/hub`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return hinted{errors.New("bom needs at least one PATH"), "chainvet bom ."}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.out.renderer(stdout)
			if err != nil {
				return err
			}
			rep, err := f.pipe.run(cmd, args, stderr)
			if err != nil {
				return err
			}
			if err := f.out.write(r, rep, stdout); err != nil {
				return err
			}
			return f.push.push(cmd.Context(), rep, args, stderr)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out.format, "output", "o", "cyclonedx-json", "BOM format: "+strings.Join(bomFormats, ", "))
	fl.StringVar(&f.out.file, "file", "", "write the BOM to this file instead of standard output")
	addPipelineFlags(fl, &f.pipe, true)
	addPushFlags(fl, &f.push)
	return c
}

// bomFormats are the -o values that make sense for a BOM.
var bomFormats = []string{"cyclonedx-json", "cyclonedx-xml", "spdx-json", "json"}
