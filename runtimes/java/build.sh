#!/usr/bin/env bash
# Builds the Java runtime into runtimes/java/lib (called by the CMake build, i.e. `make build`):
#   aws-lambda-java-core.jar    AWS's handler interfaces (Context, RequestHandler, ...) in their
#                               own package names: what users compile against
#   aws-lambda-java-events.jar  the event classes (SQS, S3, SNS, scheduled, function URLs)
#   lambent-java-runtime.jar    the runtime interface client (lambent.runtime.Main)
#   cds-<N>.jsa                 a class-data-sharing archive per installed JDK <N>, recorded from
#                               a training run of the runtime (see Trainer.java)
# The archive records the class path as the environment's JVM gives it: relative to /var/task
# ("../runtime/lib/..."), so the training runs from <work>/task with <work>/runtime linking here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:?usage: build.sh WORK_DIR}"
lib="$here/lib"
J=/usr/share/java
for jar in jackson-core jackson-databind jackson-annotations joda-time; do
  [[ -f $J/$jar.jar ]] || { echo "build.sh: $J/$jar.jar is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
rm -rf "$work/classes" "$lib.tmp"
mkdir -p "$work/classes"/{core,events,runtime} "$lib.tmp"
javac -nowarn -Xlint:-options --release 8 -d "$work/classes/core" $(find "$here/src/core" -name '*.java')
javac -nowarn -Xlint:-options --release 8 -d "$work/classes/events" -cp "$work/classes/core:$J/joda-time.jar" \
  $(find "$here/src/events" -name '*.java')
# -XDstringConcat=inline: string concatenation as StringBuilder calls, not invokedynamic call
# sites whose bootstraps cost the cold start milliseconds each.
javac --release 17 -Xlint:all -Werror -XDstringConcat=inline -d "$work/classes/runtime" \
  -cp "$work/classes/core:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar" \
  $(find "$here/src/runtime" -name '*.java')
# Reproducible jars: fixed timestamps (the archive checks the jars' size and modification time).
for name in core events runtime; do
  find "$work/classes/$name" -exec touch -h -d @0 {} +
done
jar --create --date=1980-01-01T00:00:02Z --file "$lib.tmp/aws-lambda-java-core.jar" -C "$work/classes/core" .
jar --create --date=1980-01-01T00:00:02Z --file "$lib.tmp/aws-lambda-java-events.jar" -C "$work/classes/events" .
jar --create --date=1980-01-01T00:00:02Z --file "$lib.tmp/lambent-java-runtime.jar" -C "$work/classes/runtime" .
rm -rf "$lib"
mv "$lib.tmp" "$lib"

# One archive per JDK (an archive only loads into the JVM build that wrote it).
mkdir -p "$work/task"
ln -sfn "$here" "$work/runtime"
for jdk in /usr/lib/jvm/java-*-openjdk-*; do
  [[ -x $jdk/bin/java && ! -L $jdk ]] || continue
  major=$(basename "$jdk" | cut -d- -f2)
  (cd "$work/task" && "$jdk/bin/java" $(cat "$here/jvm-options") \
    -XX:ArchiveClassesAtExit="$lib/cds-$major.jsa" \
    -Dlambent.runtime.lib="$lib" \
    -cp "$(cat "$here/class-path")" lambent.runtime.Main --train >/dev/null 2>&1) ||
    echo "build.sh: no class-data-sharing archive for $jdk (the runtime starts without it)" >&2
done
