#!/usr/bin/env bash
# Builds the C# runtime (Mono) into runtimes/dotnet/lib (called by the CMake build, i.e.
# `make build`):
#   Amazon.Lambda.Core.dll                  AWS's interfaces (ILambdaContext, ILambdaLogger,
#                                           LambdaSerializerAttribute, ...): what users compile
#                                           against
#   Amazon.Lambda.Serialization.Json.dll    the Newtonsoft.Json serializer (and the .NET 8
#                                           templates' DefaultLambdaJsonSerializer name for it)
#   LambentBootstrap.exe                    the runtime interface client
#   Newtonsoft.Json.dll                     Debian's, copied: loaded from here (or from the
#                                           function's package when it brings its own)
#   *.so                                    Mono's ahead-of-time compiled code for each of these
#                                           assemblies: the cold start does not JIT them
#   aot/*.dll.so                            the same for the framework assemblies they load
#                                           (System, System.Core, System.Xml, ...), which Debian
#                                           ships without (only mscorlib's): the runtime passes
#                                           --aot-path=/var/runtime/lib/aot
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
newtonsoft=/usr/lib/cli/Newtonsoft.Json-5.0/Newtonsoft.Json.dll
[[ -f $newtonsoft ]] || { echo "build.sh: $newtonsoft is missing (scripts/install-deps.sh)" >&2; exit 1; }
out="$here/lib.tmp"
rm -rf "$out"
mkdir -p "$out"
mcs -nologo -warnaserror -target:library -out:"$out/Amazon.Lambda.Core.dll" \
  "$here"/src/Amazon.Lambda.Core/*.cs
mcs -nologo -warnaserror -target:library -r:"$out/Amazon.Lambda.Core.dll" -r:"$newtonsoft" \
  -out:"$out/Amazon.Lambda.Serialization.Json.dll" "$here"/src/Amazon.Lambda.Serialization.Json/*.cs
mcs -nologo -warnaserror -r:"$out/Amazon.Lambda.Core.dll" -r:"$newtonsoft" -r:System.Core \
  -out:"$out/LambentBootstrap.exe" "$here"/src/Bootstrap/*.cs
cp "$newtonsoft" "$out/"
for assembly in "$out"/*.dll "$out"/*.exe; do
  mono --aot=outfile="$assembly.so" "$assembly" >/dev/null 2>&1 ||
    echo "build.sh: no ahead-of-time code for $(basename "$assembly") (it is JIT-compiled)" >&2
done
mkdir -p "$out/aot"
for name in System System.Core System.Xml System.Xml.Linq System.Numerics System.Data \
  System.Runtime.Serialization; do
  for assembly in /usr/lib/mono/gac/$name/4.0.0.0__*/$name.dll; do
    [[ -f $assembly ]] || continue
    mono --aot=outfile="$out/aot/$name.dll.so" "$assembly" >/dev/null 2>&1 ||
      echo "build.sh: no ahead-of-time code for $name (it is JIT-compiled)" >&2
  done
done
rm -rf "$here/lib"
mv "$out" "$here/lib"
