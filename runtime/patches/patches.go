// Package patches holds the patches rt's dependencies are built with (see
// README.md), embedded so that what depends on them can name them.
package patches

import _ "embed"

// Runc is the patch applied to the runc module go.mod names.
//
//go:embed runc-v1.5.3.patch
var Runc string
