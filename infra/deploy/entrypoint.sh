#!/bin/sh
# The image's entrypoint: for every NAME_FILE in the environment, NAME is set to that
# file's content (as the official database images read their secrets), so DATABASE_URL
# can come from a mounted secret (DATABASE_URL_FILE) instead of a plain variable.
# The hub itself reads only NAME; then the command runs in this process's place.
set -eu
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)_FILE=.*/\1/p'); do
    eval "path=\${${name}_FILE}"
    eval "given=\${${name}+set}"
    if [ "$given" = set ]; then
        echo "sp4n-entrypoint: both $name and ${name}_FILE are set; set one" >&2
        exit 64
    fi
    if [ ! -r "$path" ]; then
        echo "sp4n-entrypoint: ${name}_FILE names $path, which cannot be read" >&2
        exit 66
    fi
    value=$(cat "$path")
    export "$name=$value"
    unset "${name}_FILE"
done
exec "$@"
