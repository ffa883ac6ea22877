"""Load generator: simulated users, one thread and one requests.Session each.

Each simulated user logs in once (GET the login page for its CSRF token, POST the
form), then loops until the deadline or the end of its cases:

    list (one filter)  ->  open a case  ->  open its edit page  ->  submit the edit form

with a think time drawn uniformly from [think_min, think_max] seconds after each
request. The edit form is submitted with every field the page holds (hidden `version`
and CSRF token included), unchanged on even loops and with a small change (a marker
toggled at the end of the notes) on odd loops. Each simulated user has cases of its
own (see inprocess.plan), so no two of them edit the same case.

Only 127.0.0.1 is ever contacted. Latency is measured around each request on the
client, body included; redirects are not followed.
"""

import random
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests

STEPS = ("login_page", "login", "list", "detail", "edit_page", "edit_submit")
LIST_STATUSES = ("assistance", "under_screening", "reintegration", "registered", "returned")
NOTE_MARK = "[bench edit]"
TIMEOUT = (5, 60)  # connect, read (seconds)


class FormParser(HTMLParser):
    """Collect each form's successful controls as a browser would submit them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"attrs": attrs, "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            name = attrs.get("name")
            if not name or kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            default = "on" if kind in {"checkbox", "radio"} else ""
            self._form["fields"].append((name, attrs.get("value") or default))
        elif tag == "select" and attrs.get("name"):
            self._select = {"name": attrs["name"], "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attrs.get("value"),
                "selected": "selected" in attrs,
                "text": "",
            }
            self._select["options"].append(self._option)
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = {"name": attrs["name"], "text": ""}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = next((o for o in options if o["selected"]), options[0] if options else None)
            if chosen is not None and self._form is not None:
                value = chosen["value"] if chosen["value"] is not None else chosen["text"].strip()
                self._form["fields"].append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            if text.startswith("\n"):  # browsers drop the newline right after <textarea>
                text = text[1:]
            if self._form is not None:
                self._form["fields"].append((self._textarea["name"], text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def form_with(html: str, field: str) -> dict | None:
    """Return the fields of the first form on the page that has the named field."""
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        fields = dict(form["fields"])
        if field in fields:
            return fields
    return None


class Recorder:
    def __init__(self):
        self._lock = threading.Lock()
        self.latency: dict[str, list[float]] = {step: [] for step in STEPS}
        self.errors: Counter = Counter()
        self.statuses: Counter = Counter()
        self.error_samples: list[str] = []
        self.requests = 0
        self.loops = 0
        self.changed_submits = 0

    def ok(self, step: str, seconds: float, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.latency[step].append(seconds)
            self.statuses[f"{step} {status}"] += 1

    def error(self, step: str, message: str, *, seconds=None, status=None, request=True) -> None:
        """Count an error: a status >= 500 or unexpected, a connection error, a bad page."""
        with self._lock:
            if request:
                self.requests += 1
                self.statuses[f"{step} {status if status is not None else 'no response'}"] += 1
            if seconds is not None:
                self.latency[step].append(seconds)
            self.errors[step] += 1
            if len(self.error_samples) < 30:
                self.error_samples.append(f"{step}: {message}")


class SimulatedUser(threading.Thread):
    def __init__(self, *, base, plan, password, start_at, deadline, think, rec, stop, seed):
        super().__init__(name=f"user-{plan['index']}", daemon=True)
        self.base = base
        self.plan = plan
        self.password = password
        self.start_at = start_at
        self.deadline = deadline
        self.think_min, self.think_max = think
        self.rec = rec
        self.stop = stop
        self.rng = random.Random(seed)
        self.session = requests.Session()

    # One request: returns the response if its status is the expected one, else None.
    def _call(self, step, method, path, *, expect, data=None, location=None):
        if self.stop.is_set() or time.monotonic() >= self.deadline:
            return None
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base + path, data=data, allow_redirects=False, timeout=TIMEOUT
            )
        except requests.RequestException as failure:
            self.rec.error(step, f"{method} {path}: {type(failure).__name__}: {failure}")
            return None
        elapsed = time.perf_counter() - started
        status = response.status_code
        where = urlsplit(response.headers.get("Location", "")).path
        if status != expect or (location is not None and where != location):
            self.rec.error(
                step, f"{method} {path}: {status} {where}".strip(), seconds=elapsed, status=status
            )
            return None
        self.rec.ok(step, elapsed, status)
        self.stop.wait(self.rng.uniform(self.think_min, self.think_max))
        return response

    def run(self):
        try:
            self._run()
        except Exception as failure:  # noqa: BLE001  (report, never kill the whole test)
            self.rec.error("client", f"failure in {self.name}: {failure!r}", request=False)
        finally:
            self.session.close()

    def _run(self):
        if self.stop.wait(max(0.0, self.start_at - time.monotonic())):
            return
        page = self._call("login_page", "GET", "/accounts/login/", expect=200)
        if page is None:
            return
        login_form = form_with(page.text, "csrfmiddlewaretoken") or {}
        data = {
            "csrfmiddlewaretoken": login_form.get("csrfmiddlewaretoken", ""),
            "username": self.plan["username"],
            "password": self.password,
            "next": "",
        }
        if self._call("login", "POST", "/accounts/login/", expect=302, data=data, location="/"):
            self._loop()

    def _loop(self):
        mission_id = self.plan["mission_id"]
        offset = self.plan["index"]
        for loop, case_id in enumerate(self.plan["cases"]):
            if self.stop.is_set() or time.monotonic() >= self.deadline:
                return
            if loop % 2 == 0:
                status = LIST_STATUSES[(loop // 2 + offset) % len(LIST_STATUSES)]
                path = f"/cases/?status={status}"
            else:
                path = f"/cases/?mission={mission_id}"
            if self._call("list", "GET", path, expect=200) is None:
                continue
            case_path = f"/cases/{case_id}/"
            if self._call("detail", "GET", case_path, expect=200) is None:
                continue
            page = self._call("edit_page", "GET", case_path + "edit/", expect=200)
            if page is None:
                continue
            fields = form_with(page.text, "version")
            if fields is None:
                self.rec.error(
                    "edit_page", f"no form with a version field on {case_path}", request=False
                )
                continue
            changed = loop % 2 == 1
            if changed:
                notes = fields.get("notes", "").strip()
                if notes.endswith(NOTE_MARK):
                    fields["notes"] = notes[: -len(NOTE_MARK)].strip()
                else:
                    fields["notes"] = f"{notes} {NOTE_MARK}".strip()
            saved = self._call(
                "edit_submit",
                "POST",
                case_path + "edit/",
                expect=302,
                data=fields,
                location=case_path,
            )
            if saved is not None:
                with self.rec._lock:
                    self.rec.loops += 1
                    self.rec.changed_submits += changed


def run_load(*, base, plans, password, duration, ramp, think, seed=1) -> dict:
    """Run the simulated users against `base` (http://127.0.0.1:PORT); return raw results."""
    if urlsplit(base).hostname != "127.0.0.1":
        raise ValueError("The load test only ever targets 127.0.0.1.")
    rec = Recorder()
    stop = threading.Event()
    began = time.monotonic()
    deadline = began + duration
    users = [
        SimulatedUser(
            base=base,
            plan=plan,
            password=password,
            start_at=began + ramp * index / max(1, len(plans)),
            deadline=deadline,
            think=think,
            rec=rec,
            stop=stop,
            seed=seed * 1000 + index,
        )
        for index, plan in enumerate(plans)
    ]
    for user in users:
        user.start()
    try:
        last = began
        while any(user.is_alive() for user in users):
            time.sleep(1)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                done = sum(len(v) for v in rec.latency.values())
                print(
                    f"[load] {last - began:5.0f} s: {done} requests,"
                    f" {sum(rec.errors.values())} errors",
                    flush=True,
                )
    except KeyboardInterrupt:
        stop.set()
        for user in users:
            user.join(timeout=TIMEOUT[1] + 5)
        raise
    for user in users:
        user.join()
    return {"recorder": rec, "wall_seconds": time.monotonic() - began}
