#!/usr/bin/env bash
# The pages of organisers, moderators and admins (and /api) through webcheck's Nu HTML checker and
# axe (desktop and phone), as each role sees them, error states included. Part of
# .ci/run; by hand: bash .ci/check-pages.sh
# It builds a scratch database with an admin (`admin create`), an organiser, a moderator
# of Braga, and events waiting for review, rejected, and published then changed.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WEBCHECK_DIR:-../shared/tools/webcheck}
[ -d "$W/bin" ] || W=/work/shared/tools/webcheck
[ -d "$W/bin" ] || { echo "SKIPPED: webcheck not found beside the checkout (set WEBCHECK_DIR)"; exit 0; }
W=$(cd "$W" && pwd)
bash "$W/install.sh" >/dev/null
cargo build --locked --quiet
BIN=$PWD/target/debug/creative-calendar
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
trap 'kill $server 2>/dev/null || true; rm -rf "$DIR"' EXIT
$BIN demo --database $DIR/a.db --events 300 --seed 7 >/dev/null
CREATIVE_CALENDAR_ADMIN_PASSWORD="admin password 123" $BIN admin create --database $DIR/a.db \
  --email admin@example.org --name "Ada Admin" >/dev/null
$BIN serve --database $DIR/a.db --bind 127.0.0.1:$PORT >$DIR/server.log 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf $B/healthz >/dev/null && break; sleep 0.2; done

token() { grep -o 'name="csrf_token" value="[^"]*"' "$1" | head -1 | sed 's/.*value="//;s/"//'; }
signup() { # jar email name
  curl -s -c $DIR/$1.jar -b $DIR/$1.jar $B/signup -o $DIR/p.html
  curl -s -c $DIR/$1.jar -b $DIR/$1.jar $B/signup --data-urlencode "csrf_token=$(token $DIR/p.html)" \
    --data-urlencode "email=$2" --data-urlencode "name=$3" --data-urlencode "organisation=$3 Festival" \
    --data-urlencode "password=a long enough password" -o /dev/null
}
login() { # jar email password
  curl -s -c $DIR/$1.jar -b $DIR/$1.jar $B/login -o $DIR/p.html
  curl -s -c $DIR/$1.jar -b $DIR/$1.jar $B/login --data-urlencode "csrf_token=$(token $DIR/p.html)" \
    --data-urlencode "email=$2" --data-urlencode "password=$3" -o /dev/null
}
post() { # jar page action fields... ; prints the Location
  local jar=$1 page=$2 action=$3; shift 3
  curl -s -b $DIR/$jar.jar $B$page -o $DIR/p.html
  local args=(--data-urlencode "csrf_token=$(token $DIR/p.html)")
  for f in "$@"; do args+=(--data-urlencode "$f"); done
  curl -s -b $DIR/$jar.jar $B$action "${args[@]}" -D - -o /dev/null | grep -i '^location' | tr -d '\r' | sed 's/^[Ll]ocation: //'
}
signup ana ana@braga.example "Ana Silva"
signup mia mia@braga.example "Mia Moderator"
login admin admin@example.org "admin password 123"
mia=3
post admin /admin/users/$mia /admin/users/$mia/grant-moderator city=braga "reason=Runs the Braga festival office" >/dev/null
ev() { post ana /events/new /events/new city=braga kind=festival "title=$1" "description=Three nights of light." venue="Theatro Circo" "address=Av. da Liberdade 697" start_date=2027-03-12 start_time=19:00 end_time=23:00 "url=https://example.org" "price=12 €"; }
e1=$(ev "Festa das Luzes"); e2=$(ev "Noite de Fado"); e3=$(ev "Braga Jazz Night")
id1=${e1#/events/}; id2=${e2#/events/}; id3=${e3#/events/}
# A series (Tuesdays and Thursdays, one date skipped) and an exhibition with opening hours.
e4=$(post ana /events/new /events/new city=braga kind=workshop "title=Open studio" venue="Theatro Circo" start_date=2027-03-02 start_time=18:00 end_time=20:00 repeat=weekly repeat_weekdays=tu repeat_weekdays=th repeat_count=8 skip_dates=2027-03-04)
e5=$(post ana /events/new /events/new city=braga kind=exhibition "title=Four seasons" venue="Museu Nogueira da Silva" all_day=on start_date=2027-03-01 end_date=2027-06-30 opens_tu=10:00 closes_tu=18:00 opens_we=10:00 closes_we=18:00 opens_th=10:00 closes_th=21:00 opens_sa=10:00 closes_sa=18:00 closed_dates=2027-04-01)
id4=${e4#/events/}; id5=${e5#/events/}
[ -n "$id4" ] && [ -n "$id5" ] || { echo "the series or the exhibition was not created" >&2; exit 1; }
post ana /events/$id4/occurrences/2027-03-09 /events/$id4/occurrences/2027-03-09 "title=With a guest" start_time=19:00 status=scheduled >/dev/null
post ana /events/$id4/occurrences/2027-03-16 /events/$id4/occurrences/2027-03-16 status=cancelled >/dev/null
post mia /moderation /moderation/events/$id1/approve back=/moderation >/dev/null
post mia /moderation /moderation/events/$id2/reject "reason=Please give the full address." back=/moderation >/dev/null
post ana /events/$id1/edit /events/$id1/edit city=braga kind=festival "title=Festa das Luzes (new time)" "description=Three nights of light." venue="Theatro Circo" "address=Av. da Liberdade 697" start_date=2027-03-12 start_time=20:00 end_time=23:00 >/dev/null

# Calendars: a file imported once (traps.ics: skipped events and warnings), and a feed
# refused because it is on a private address (the switch is off here).
curl -s -b $DIR/ana.jar $B/my/sources/upload -o $DIR/p.html
s1=$(curl -s -b $DIR/ana.jar $B/my/sources/upload -F "csrf_token=$(token $DIR/p.html)" -F city=krakow -F kind=talk \
  -F "file=@tests/fixtures/ics/traps.ics;type=text/calendar" -D - -o /dev/null | grep -i '^location' | tr -d '\r' | sed 's/^[Ll]ocation: //;s/?.*//')
s2=$(post ana /my/sources /my/sources "url=http://127.0.0.1:9/feed.ics" city=braga kind=festival on_vanish=remove)
s2=${s2%%\?*}
[ -n "$s1" ] && [ -n "$s2" ] || { echo "the calendars were not added" >&2; exit 1; }

mkdir $DIR/pages
get() { curl -s ${2:+-b $DIR/$2.jar} "$B$1" -o "$DIR/pages/$3.html" -w "%{http_code}" | grep -q 200 || { echo "GET $1 as ${2:-nobody} failed" >&2; exit 1; }; }
ANA=(/my/events /account/tokens /events/new "/events/new?city=braga" /events/$id1/edit /account /events/$id1 /events/$id2 /events/$id3 /events/$id1/cancel /events/$id1/postpone /events/$id3/delete /events/$id4 /events/$id4/edit /events/$id4/occurrences/2027-03-11 /events/$id5 /events/$id5/edit /my/sources /my/sources/upload $s1 $s2 $s2/delete $s2/edit $s1/edit)
# Public listings with series and exhibitions of the demo data, and one of each's page.
PUBLIC=(/signup /login /api "/events?kind=workshop" "/events?kind=exhibition&open=today" "/events?open=today")
for q in "kind=workshop&q=eight+evenings" "kind=exhibition&q=late+opening+thursdays"; do
  id=$(curl -sf "$B/events?$q" | grep -o 'href="/events/[0-9]*"' | head -1 | tr -dc '0-9')
  [ -n "$id" ] && PUBLIC+=("/events/$id")
done
MIA=(/moderation "/moderation?city=braga" /moderation/log /events/$id3 /events/$id1 /moderation/events/$id1/unpublish /moderation/events/$id3/reject)
ADMIN=(/admin/users "/admin/users?q=braga" /admin/users/$mia)
n=0; for u in "${PUBLIC[@]}"; do get "$u" "" public$((n++)); done
n=0; for u in "${ANA[@]}"; do get "$u" ana ana$((n++)); done
n=0; for u in "${MIA[@]}"; do get "$u" mia mia$((n++)); done
n=0; for u in "${ADMIN[@]}"; do get "$u" admin admin$((n++)); done
# Error states, answered 422 and saved for the HTML checker.
curl -s -b $DIR/ana.jar $B/events/new --data-urlencode "csrf_token=$(token $DIR/pages/ana1.html)" --data-urlencode "title=<script>x</script>" \
  -d "city=atlantis&kind=rave&start_date=2026-02-30&start_time=25:00&end_date=x&url=javascript:alert(1)" -o $DIR/pages/event-form-errors.html
curl -s -b $DIR/ana.jar $B/account/password --data-urlencode "csrf_token=$(token $DIR/pages/ana4.html)" -d "current_password=wrong&new_password=short" -o $DIR/pages/password-errors.html
curl -s -b $DIR/ana.jar $B/events/$id1/cancel --data-urlencode "csrf_token=$(token $DIR/pages/ana8.html)" --data-urlencode "note=$(head -c 1100 /dev/zero | tr '\0' n)" -o $DIR/pages/note-error.html
curl -s -b $DIR/mia.jar $B/moderation/events/$id3/reject --data-urlencode "csrf_token=$(token $DIR/pages/mia0.html)" -d "reason=" -o $DIR/pages/reason-error.html
curl -s -b $DIR/ana.jar $B/events/new --data-urlencode "csrf_token=$(token $DIR/pages/ana1.html)" \
  -d "city=braga&kind=workshop&title=Daily&venue=V&start_date=2027-03-02&start_time=18:00&repeat=daily&repeat_weekdays=xx&repeat_nth=9&skip_dates=soon&opens_mo=10:00&closed_dates=2030-01-01" -o $DIR/pages/series-form-errors.html
curl -s -b $DIR/ana.jar $B/events/$id4/occurrences/2027-03-11 --data-urlencode "csrf_token=$(token $DIR/pages/ana1.html)" \
  -d "start_date=2030-01-01&start_time=25:00&status=maybe" -o $DIR/pages/occurrence-errors.html
curl -s -b $DIR/ana.jar $B/my/sources --data-urlencode "csrf_token=$(token $DIR/pages/ana1.html)" \
  -d "url=ftp://example.org/x.ics&city=atlantis&kind=rave&category_map=nonsense&on_vanish=maybe" -o $DIR/pages/source-form-errors.html
curl -s -c $DIR/x.jar -b $DIR/x.jar $B/signup -o $DIR/p.html
curl -s -c $DIR/x.jar -b $DIR/x.jar $B/signup --data-urlencode "csrf_token=$(token $DIR/p.html)" -d "email=bad&name=&password=short" -o $DIR/pages/signup-errors.html
curl -s -c $DIR/x.jar -b $DIR/x.jar $B/login --data-urlencode "csrf_token=$(token $DIR/p.html)" -d "email=nobody%40example.org&password=wrong+password" -o $DIR/pages/login-error.html

status=0
echo "== Nu HTML checker: $(ls $DIR/pages | wc -l) pages"
"$W/bin/html_check.sh" $DIR/pages/*.html >$DIR/html.txt || { status=1; grep -v '^PASS' $DIR/html.txt; }
tail -1 $DIR/html.txt
cookie() { awk '$6=="cc_session"{print $7}' $DIR/$1.jar; }
urls() { for u in "$@"; do printf '%s ' "$B$u"; done; }
for mode in "" --mobile; do
  echo "== axe ${mode:-(desktop)}"
  (cd "$W" && node bin/a11y_check.js $mode $(urls "${PUBLIC[@]}") | tail -1) || status=1
  (cd "$W" && WEBCHECK_COOKIE="cc_session=$(cookie ana)" node bin/a11y_check.js $mode $(urls "${ANA[@]}") | tail -1) || status=1
  (cd "$W" && WEBCHECK_COOKIE="cc_session=$(cookie mia)" node bin/a11y_check.js $mode $(urls "${MIA[@]}") | tail -1) || status=1
  (cd "$W" && WEBCHECK_COOKIE="cc_session=$(cookie admin)" node bin/a11y_check.js $mode $(urls "${ADMIN[@]}") | tail -1) || status=1
done
exit $status
