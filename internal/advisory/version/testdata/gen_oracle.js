// Writes npm.tsv: how node-semver orders versions and evaluates ranges,
// for version's differential test. Run from this directory with Debian's
// node and the semver that ships inside npm:
//     node gen_oracle.js
// Lines: "rank<TAB>n<TAB>version" and
// "range<TAB>range<TAB>includePrerelease 0|1<TAB>space-separated versions".
const semver = require('/usr/lib/node_modules/npm/node_modules/semver')
const fs = require('fs')

const versions = `0.0.0 0.0.1 0.0.3 0.0.3-beta 0.0.4 0.1.0 0.2.3 0.2.9 0.3.0
1.0.0 1.0.0-0 1.0.0-alpha 1.0.0-alpha.1 1.0.0-alpha.beta 1.0.0-beta.11
1.0.0-beta.2 1.2.0 1.2.2 1.2.3 1.2.3-alpha.7 1.2.3-beta 1.2.3-beta.2 1.2.4
1.2.4-beta 1.3.0 1.3.0-0 1.9.9 2.0.0 2.0.0-0 2.0.0-alpha 2.3.4 2.3.5
2.3.4-rc.1 2.4.0 3.0.0 1.2.3+build`.split(/\s+/)

const ranges = ['*', '', '1.x', '1.2.x', '1', '1.2', '~1.2.3', '~1.2', '~1',
  '~0.2.3', '~0', '~1.2.3-beta.2', '^1.2.3', '^0.2.3', '^0.0.3', '^1.2.3-beta.2',
  '^0.0.3-beta', '^1.2.x', '^0.0.x', '^0.0', '^1.x', '^0.x', '1.2.3 - 2.3.4',
  '1.2 - 2.3.4', '1.2.3 - 2.3', '1.2.3 - 2', '>1', '>1.2', '>=1.2', '<1.2',
  '<=1.2', '>*', '<*', '>=1.2.3 <2.0.0', '>1.2.3-alpha.3', '<=1.2.3', '<1.2.3',
  '=1.2.3', '1.2.7 || >=1.2.9 <2.0.0', '~>1.2', '>= 1.2.3 < 2',
  '^0.0.3-beta || 2.x', '<2.0.0-alpha', '>=1.0.0-0 <1.0.1', '1.2.3-beta - 2.3.4-rc.1',
  'v1.2.3', '2.x || 1.2.3 - 1.2.4']

const out = []
const sorted = [...versions].sort(semver.compare)
let rank = 0
sorted.forEach((v, i) => {
  if (i && semver.compare(sorted[i - 1], v) !== 0) rank++
  out.push(`rank\t${rank}\t${v}`)
})
for (const r of ranges) {
  for (const p of [false, true]) {
    const hit = versions.filter(v => semver.satisfies(v, r, { includePrerelease: p }))
    out.push(`range\t${r}\t${p ? 1 : 0}\t${hit.join(' ')}`)
  }
}
fs.writeFileSync('npm.tsv', out.join('\n') + '\n')
