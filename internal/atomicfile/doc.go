// Package atomicfile replaces files so that a power cut or a crash leaves
// either the old contents or the new ones under the name, never a torn
// mixture: the agent's state files (the last accepted config version, the
// fleet configs it runs, fetched models) must survive a board losing
// power at any instant.
//
// WriteFile follows the usual POSIX recipe: write a temporary file in the
// same directory (rename(2) is atomic only within one file system), fsync
// it so its data is on disk before the name points at it, rename it over
// the target, then fsync the directory so the rename itself is durable.
// On any error the temporary file is removed and the old file is left as
// it was.
package atomicfile
