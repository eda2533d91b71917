"""Report templates are untrusted input: they travel between departments and bureaus. This
module renders them so that a template can neither run code nor hang or fill the machine.

Three layers:

1. **Jinja's sandbox** (``ImmutableSandboxedEnvironment``): no ``_``-attributes
   (``__globals__``, ``__class__``, ``__subclasses__`` …), no internal attributes of functions
   or frames, no mutation of the context; ``autoescape`` and ``StrictUndefined`` as before.
2. **Budgets inside the render**: ``range`` yields at most ``MAX_RANGE`` items per call and
   ``MAX_ITERATIONS`` over the whole render; ``*`` and ``**`` refuse results beyond
   ``MAX_OUTPUT`` characters or huge powers; the rendered text is streamed and cut at
   ``MAX_OUTPUT`` characters or ``RENDER_SECONDS`` of wall time.
3. **A separate process for a user's template** (``render_isolated``): wall-clock timeout with
   kill, and on POSIX an address-space limit and no file writing. A Jinja filter working on one
   huge string (``center(10**9)``) or a loop the budgets do not see still ends there.

The built-in template is ours, so it is rendered in-process (layers 1 and 2 only), with the
compiled Jinja template cached per process: the environment is built once, and each distinct
template source is compiled once.
"""

from __future__ import annotations

import sys
import threading
import time

MAX_RANGE = 10_000            # items per range() call
MAX_ITERATIONS = 1_000_000    # range() items per render, all loops together
MAX_OUTPUT = 50_000_000       # characters of rendered XML per document part
RENDER_SECONDS = 10.0         # in-process wall-clock budget of one render
PROCESS_SECONDS = 20.0        # hard limit on the separate process (killed after)
MEMORY_BYTES = 1 << 30        # extra address space the separate process may use
START_METHOD = None           # multiprocessing start method; None: fork on Linux, else spawn
_COMPILED_CACHE = 16          # distinct template sources kept compiled per process


class TemplateLimit(Exception):
    """A template exceeded a budget; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_state = threading.local()


def _budget():
    b = getattr(_state, "budget", None)
    if b is None:
        b = _state.budget = {"deadline": time.monotonic() + RENDER_SECONDS, "items": 0}
    return b


def start_budget() -> None:
    """Reset the per-render budget (called before each document render)."""
    _state.budget = {"deadline": time.monotonic() + RENDER_SECONDS, "items": 0}


def _check_time(b) -> None:
    if time.monotonic() > b["deadline"]:
        raise TemplateLimit(f"填充超过 {RENDER_SECONDS:g} 秒仍未完成（模板中可能有过大的循环），已停止。")


def _range(*args):
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise TemplateLimit(f"模板中的 range() 超过 {MAX_RANGE} 项，已拒绝。")
    return _counted(r)


def _counted(r):
    b = _budget()
    for n, x in enumerate(r):
        b["items"] += 1
        if b["items"] > MAX_ITERATIONS:
            raise TemplateLimit(f"模板中的循环合计超过 {MAX_ITERATIONS} 次，已停止。")
        if not n % 1000:
            _check_time(b)
        yield x


def _size(x) -> int | None:
    return len(x) if isinstance(x, (str, bytes, list, tuple)) else None


def _make_environment():
    from jinja2 import StrictUndefined, Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedTemplate(Template):
        def render(self, *args, **kwargs):
            ctx = self.new_context(dict(*args, **kwargs))
            b = _budget()
            parts, total = [], 0
            try:
                for n, chunk in enumerate(self.root_render_func(ctx)):
                    parts.append(chunk)
                    total += len(chunk)
                    if total > MAX_OUTPUT:
                        raise TemplateLimit(
                            f"填充后的内容超过 {MAX_OUTPUT // 1_000_000} 百万字符，已停止。")
                    if not n % 512:
                        _check_time(b)
            except TemplateLimit:
                raise
            except Exception:
                self.environment.handle_exception()
            return "".join(parts)

    class ReportSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})
        template_class = BoundedTemplate

        def __init__(self):
            super().__init__(undefined=StrictUndefined, autoescape=True)
            self.globals["range"] = _range
            self.globals.pop("lipsum", None)   # builds text of any requested length
            self._compiled: dict[str, Template] = {}

        def call_binop(self, context, operator, left, right):
            if operator == "**" and isinstance(right, int) and abs(right) > 100:
                raise TemplateLimit("模板中的乘方运算过大，已拒绝。")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    size = _size(seq)
                    if size is not None and isinstance(n, int) and size * n > MAX_OUTPUT:
                        raise TemplateLimit("模板中的重复运算生成的内容过长，已拒绝。")
            return super().call_binop(context, operator, left, right)

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805
            _check_time(_budget())
            return super().call(__context, __obj, *args, **kwargs)

        def from_string(self, source, globals=None, template_class=None):
            # docxtpl compiles the document XML on every render; the same source gives the
            # same compiled template, so keep it (the built-in template compiles once).
            if globals or template_class or not isinstance(source, str):
                return super().from_string(source, globals, template_class)
            t = self._compiled.get(source)
            if t is None:
                code = _stored_code(self, source) if getattr(_state, "trusted", False) else None
                if code is None:
                    t = super().from_string(source)
                else:
                    t = self.template_class.from_code(self, code, self.make_globals(None))
                if len(self._compiled) >= _COMPILED_CACHE:
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[source] = t
            return t

    return ReportSandbox()


def trusted(on: bool) -> None:
    """Mark the renders of this thread as using the built-in template: only its compiled
    code is kept on disk between processes (a user's template is compiled each process)."""
    _state.trusted = on


_bytecode_cache = None


def _stored_code(env, source: str):
    """The built-in template's compiled code from Jinja's own file bytecode cache (a private
    0700 folder per user, written atomically), so a new process skips the compile — the
    same idea as Python's .pyc files. Any problem with the cache just means compiling."""
    global _bytecode_cache
    try:
        import hashlib

        import jinja2
        from jinja2.bccache import FileSystemBytecodeCache

        if _bytecode_cache is None:
            _bytecode_cache = FileSystemBytecodeCache(pattern="__perfeval_report_%s.cache")
        # Jinja's bucket checks the source checksum and the Python version; the name adds
        # the Jinja version and this sandbox's configuration.
        name = (f"perfeval-report-{jinja2.__version__}-{_CONFIG}-"
                f"{hashlib.sha256(source.encode('utf-8')).hexdigest()}")
        bucket = _bytecode_cache.get_bucket(env, name, None, source)
        if bucket.code is None:
            bucket.code = env.compile(source)
            _bytecode_cache.set_bucket(bucket)
        return bucket.code
    except Exception:  # unwritable temp folder, foreign owner, damaged file …
        return None


_CONFIG = f"{MAX_RANGE}-{MAX_ITERATIONS}-{MAX_OUTPUT}-1"
_env = None
_env_lock = threading.Lock()


def environment():
    """The sandboxed Jinja environment, built once per process."""
    global _env
    with _env_lock:
        if _env is None:
            _env = _make_environment()
        return _env


# --------------------------------------------------------------------------- separate process

def render_isolated(fill, *args, timeout: float | None = None):
    """Run ``fill(*args)`` (returns bytes, or raises an exception with a Chinese ``message``)
    in a child process with a timeout and resource limits; returns its bytes.

    Raises:
        TemplateLimit: timeout, memory exhausted, the child died, or ``fill`` failed (its
            message is passed on).
    """
    import multiprocessing as mp

    timeout = PROCESS_SECONDS if timeout is None else timeout
    method = START_METHOD or ("fork" if sys.platform.startswith("linux") else "spawn")
    ctx = mp.get_context(method)
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fill, args), daemon=True)
    try:
        proc.start()
    except (AssertionError, OSError):
        # No child possible here (a daemonic pool worker, no fork/spawn resources): the
        # sandbox and the in-render budgets still apply.
        send.close()
        receive.close()
        start_budget()
        return fill(*args)
    send.close()
    died = TemplateLimit("填充时进程异常退出（可能超出内存限制），已停止。请检查模板中的循环和表达式。")
    try:
        deadline = time.monotonic() + timeout
        # Poll in short steps: a child that died without answering is noticed at once
        # (with spawn, the parent may hold a copy of the pipe's end, so no EOF arrives).
        while not receive.poll(0.05):
            if not proc.is_alive() and not receive.poll(0):
                raise died
            if time.monotonic() > deadline:
                raise TemplateLimit(f"填充超过 {timeout:g} 秒仍未完成（模板中可能有过大的循环或运算），"
                                    "已停止。请检查模板中的循环和表达式。")
        try:
            kind, payload = receive.recv()
        except (EOFError, OSError):
            raise died from None
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if kind == "ok":
        return payload
    raise TemplateLimit(payload)


def _child(send, fill, args) -> None:
    _limit_resources()
    try:
        out = ("ok", fill(*args))
    except MemoryError:
        out = ("error", "填充时内存不足（模板生成的内容过多），已停止。")
    except Exception as exc:  # passed on as a message; the parent raises it
        out = ("error", getattr(exc, "message", None) or f"无法填充（{type(exc).__name__}）。")
    try:
        send.send(out)
    finally:
        send.close()


def _limit_resources() -> None:
    """POSIX: bounded address space and CPU time, and no file may grow (a template that
    escaped the sandbox still cannot write files)."""
    try:
        import resource
        import signal
    except ImportError:  # Windows: the timeout alone applies
        return
    try:
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * resource.getpagesize()
        limit = used + MEMORY_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass
    try:
        cpu = int(PROCESS_SECONDS) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    except (OSError, ValueError, AttributeError):
        pass
