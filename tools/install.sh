#!/usr/bin/env bash
# Installs what hbmmm needs on a fresh Debian machine with R, then hbmmm itself.
# Idempotent: packages already present are skipped, so reruns take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's prebuilt R packages install in seconds (CRAN source builds take minutes).
# knitr/rmarkdown/pandoc build the vignettes, roxygen2 regenerates man/, qpdf is
# used by R CMD check --as-cran; posterior, loo, MatchIt, bayesm, coda and lpSolve are
# reference implementations that the tests compare against; future runs chains
# under a future plan (hbmmm(cluster = "future")).
debs="r-cran-knitr r-cran-rmarkdown r-cran-roxygen2 pandoc qpdf
      r-cran-posterior r-cran-loo r-cran-matchit r-cran-bayesm r-cran-coda r-cran-lpsolve
      r-cran-future"
missing=""
for p in $debs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

R CMD INSTALL --preclean --no-test-load . >/dev/null 2>install.log || { cat install.log; exit 1; }
rm -f install.log src/*.o src/*.so
echo "hbmmm $(Rscript -e 'cat(format(packageVersion("hbmmm")))') installed"
