// /usr/share/doc/patchloop/copyright of the .deb: the machine-readable copyright file Debian
// policy asks for (nfpm writes changelog.Debian.gz from deploy/packaging/changelog.yml).

export function debianCopyright(year: number): string {
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: patchloop
Comment: /usr/bin/patchloop is a Node.js single executable application: the Node.js runtime
 with patchloop and the npm packages it uses bundled in. Their licences are in
 /usr/share/doc/patchloop/third-party-licenses.txt.

Files: *
Copyright: ${year} patchloop contributors
License: Apache-2.0

Files: usr/bin/patchloop
Copyright: ${year} patchloop contributors; Node.js contributors and the authors of the bundled npm packages
License: Apache-2.0 and MIT
 The Node.js runtime and most bundled npm packages are under the MIT licence; each package's
 licence is in /usr/share/doc/patchloop/third-party-licenses.txt.

License: Apache-2.0
 On Debian systems, the full text of the Apache License, Version 2.0 is in
 /usr/share/common-licenses/Apache-2.0.

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
 INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
 PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
 FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
 OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
`;
}
