package lock

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// maxRefFile bounds what is read of .git/HEAD, a loose ref or
// packed-refs: a packed-refs file of a large repository is a few MB.
const maxRefFile = 16 << 20

// gitRevision is the commit checked out in the git work tree dir (a model
// cloned from the Hugging Face hub, a dataset repository), read from
// .git/HEAD and the refs without running git; "" if dir is not a work
// tree or the commit cannot be told. A .git file (a submodule, a linked
// work tree) is followed to the folder it names.
func gitRevision(dir string) string {
	gitDir := filepath.Join(dir, ".git")
	fi, err := os.Lstat(gitDir)
	if err != nil {
		return ""
	}
	if fi.Mode().IsRegular() {
		b := readSmall(gitDir)
		target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
		if !ok {
			return ""
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		gitDir = target
	} else if !fi.IsDir() {
		return ""
	}
	head := strings.TrimSpace(string(readSmall(filepath.Join(gitDir, "HEAD"))))
	ref, ok := strings.CutPrefix(head, "ref: ")
	if !ok {
		return commitID(head)
	}
	ref = strings.TrimSpace(ref)
	if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		return ""
	}
	// A linked work tree keeps its refs in the common folder.
	dirs := []string{gitDir}
	if c := strings.TrimSpace(string(readSmall(filepath.Join(gitDir, "commondir")))); c != "" {
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		dirs = append(dirs, c)
	}
	for _, d := range dirs {
		if id := commitID(strings.TrimSpace(string(readSmall(filepath.Join(d, filepath.FromSlash(ref)))))); id != "" {
			return id
		}
		sc := bufio.NewScanner(bytes.NewReader(readSmall(filepath.Join(d, "packed-refs"))))
		for sc.Scan() {
			id, name, ok := strings.Cut(sc.Text(), " ")
			if ok && name == ref {
				return commitID(id)
			}
		}
	}
	return ""
}

// commitID returns s if it is a full SHA-1 or SHA-256 commit id.
func commitID(s string) string {
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	if strings.Trim(s, "0123456789abcdef") != "" {
		return ""
	}
	return s
}

// readSmall reads a file of at most maxRefFile bytes, or nothing.
func readSmall(p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxRefFile {
		return nil
	}
	var b bytes.Buffer
	b.ReadFrom(f)
	return b.Bytes()
}
