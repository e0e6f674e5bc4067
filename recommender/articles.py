"""Article records: read and validate feed files, canonical URLs, feed-schema entries."""

from __future__ import annotations

import errno
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from recommender import yamlsafe
from recommender.errors import ArticleError, RecommenderError

ARTICLE_SUFFIXES = frozenset({".md", ".txt", ".yaml", ".yml"})
MAX_FILE_BYTES = 5 * 1024 * 1024
# Query parameters that only track a click; they never change which article a URL names.
TRACKING_PARAMS = frozenset(
    {"mod", "ref", "ref_src", "ref_url", "fbclid", "gclid", "dclid", "msclkid", "mc_cid",
     "mc_eid", "ocid", "cmpid", "smid", "smtyp", "src", "source", "guccounter", "guce_referrer",
     "guce_referrer_sig", "taid", "ito", "cid", "rss", "feedtype", "partner", "igshid", "s_cid"}
)
_OPENING = re.compile(r"\ufeff?---[ \t]*\r?$", re.MULTILINE)
_CLOSING = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)


def canonical_url(url: str) -> str:
    """The identity of the article a URL names.

    Lowercase scheme and host, ``http`` as ``https``, no ``www.``, no trailing slash, no
    fragment, tracking parameters (``utm_*``, ``mod``, ``ref``, ``fbclid``...) dropped and the
    remaining ones sorted.
    """
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "https").lower()
    scheme = "https" if scheme == "http" else scheme
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host += f":{parts.port}"
    path = parts.path.rstrip("/")
    params = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower().startswith("utm_") or k.lower() in TRACKING_PARAMS)
    )
    query = f"?{urlencode(params)}" if params else ""
    return f"{scheme}://{host}{path}{query}"


def format_datetime(value: datetime) -> str:
    """A timestamp as the feed's related entries write it: UTC, whole seconds, ``Z``
    (``2023-07-03T09:16:00Z``), whatever zone it was published in."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        value = value.astimezone(timezone.utc)
    except OverflowError:  # year 1 west of UTC, or year 9999 east of it: no UTC form
        return value.isoformat()
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
            f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z")


ENTRY_KEYS = ("title", "excerpt", "publishedDateTime", "webUrl", "ampWebUrl", "cdnAmpWebUrl",
              "type", "provider", "quality", "images")
"""The keys of a curated ``related:`` entry, in the feed's order."""
IMAGE_KEYS = ("url", "width", "height", "isCached")
"""The keys of an image in a curated entry (files' own images also carry title, attribution)."""
_SCALAR = (str, int, float, bool)


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def feed_entry(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of article fields as an entry of a ``related:`` list, exactly as the feed
    writes one: its keys in its order, the date in UTC, images with the entry keys only.

    Values that would not read back as written (NaN, nested lists) are left out.
    """
    out: dict[str, Any] = {}
    for key in ENTRY_KEYS:
        value = fields.get(key)
        if value is None or value == "" or value == [] or value == {}:
            continue
        if key == "publishedDateTime":
            try:
                published = parse_datetime(value)
            except ValueError:
                continue
            if published is not None:
                out[key] = format_datetime(published)
        elif key == "provider":
            if isinstance(value, Mapping):
                provider = {k: value[k] for k in ("name", "domain")
                            if isinstance(value.get(k), str) and value[k]}
                if provider:
                    out[key] = provider
        elif key == "images":
            images = [{k: image[k] for k in IMAGE_KEYS
                       if isinstance(image.get(k), _SCALAR) and _finite(image[k])}
                      for image in value if isinstance(image, Mapping)] \
                if isinstance(value, list) else []
            if any(images):
                out[key] = [image for image in images if image]
        elif isinstance(value, _SCALAR) and _finite(value):
            out[key] = value
    return out


@dataclass(frozen=True)
class Article:
    """One article: a feed file, or an entry of some file's curated ``related:`` list (a stub).

    ``id`` is the canonical URL (or ``file:<path>`` for a file without any URL); ``aliases``
    are the canonical forms of its other URLs (``originalUrl``, AMP pages) that name it too.
    """

    id: str
    title: str
    excerpt: str = ""
    published: datetime | None = None
    url: str | None = None
    provider: str | None = None
    domain: str | None = None
    topics: tuple[str, ...] = ()
    quality: float | None = None
    images: tuple[dict[str, Any], ...] = ()
    amp_urls: tuple[tuple[str, str], ...] = ()
    """(field, URL) for ``ampWebUrl`` / ``cdnAmpWebUrl`` as written, to write them back."""
    aliases: tuple[str, ...] = ()
    path: str | None = None
    related: tuple[Article, ...] = field(default=(), repr=False)

    @property
    def text(self) -> str:
        """What gets embedded and indexed: title and excerpt."""
        return f"{self.title}. {self.excerpt}" if self.excerpt else self.title

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    def entry(self) -> dict[str, Any]:
        """This article as an entry of a ``related:`` list, in the feed's own schema."""
        return feed_entry({
            "title": self.title, "excerpt": self.excerpt, "publishedDateTime": self.published,
            "webUrl": self.url, **dict(self.amp_urls), "type": "article",
            "provider": {"name": self.provider, "domain": self.domain},
            "quality": self.quality, "images": [dict(image) for image in self.images],
        })

    def merged_with(self, other: Article) -> Article:
        """This article with the fields it lacks taken from ``other``, another source of the
        same article (a file and a curated entry of it): where both have one, this one wins."""
        filled = {name: getattr(other, name) for name in _MERGED_FIELDS
                  if not getattr(self, name) and getattr(self, name) != 0
                  and getattr(other, name) is not None}
        aliases = tuple(dict.fromkeys(a for a in (*self.aliases, *other.urls) if a != self.id))
        return replace(self, **filled, aliases=aliases)


_MERGED_FIELDS = ("excerpt", "published", "url", "provider", "domain", "topics", "quality",
                  "images", "amp_urls")


def split_front_matter(text: str) -> tuple[int, int]:
    """Character offsets (start, end) of the YAML between the opening and closing ``---``.

    Only whole lines that are exactly ``---`` count: URLs and excerpts may contain ``---``.
    """
    opening = _OPENING.match(text)
    if opening is None:
        raise ValueError("no YAML front matter (the file must start with a line '---')")
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise ValueError("the front matter is not closed by a line '---'")
    return opening.end() + 1, closing.start()


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text, refusing what is not an article file: huge, binary or not UTF-8."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ArticleError(path, f"file is {size / 1e6:.1f} MB, over the 5 MB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(path, _unreadable(path, exc)) from exc
    return decode_text(data, path)


def _unreadable(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be opened, in words (links get their own)."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (the link leads back to itself), not followed"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"dangling symbolic link (its target {os.readlink(path)} does not exist)"
    return f"cannot read file ({exc.strerror or exc})"


# UTF-16 and UTF-32 text (with a byte-order mark) is text, but not the feed's encoding.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def _wide_text(data: bytes) -> str | None:
    """``UTF-16`` or ``UTF-32`` when ``data`` is text in one of them, marked by its BOM."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                data.decode(name.lower())
            except UnicodeDecodeError:
                return None  # a binary file that happens to start like a BOM
            return name
    return None


def decode_text(data: bytes, where: object) -> str:
    """Bytes of an article (a file, standard input) as text: UTF-8, not binary."""
    wide = _wide_text(data)
    if wide:
        raise ArticleError(where, f"{wide} text; save it as UTF-8")
    if b"\x00" in data[:8192]:
        raise ArticleError(where, "binary file, not a feed article")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(where, f"not UTF-8 text (bad byte at offset {exc.start})") from exc


def parse_front_matter(text: str, path: object = "<text>") -> dict[str, Any]:
    """The front matter of a feed file as a mapping (``yaml`` safe loader: no code runs)."""
    try:
        start, end = split_front_matter(text)
        fields = yamlsafe.load(text[start:end])
    except ValueError as exc:
        raise ArticleError(path, str(exc)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at front-matter line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        kind = "YAML refused" if isinstance(exc, yamlsafe.YamlLimitError) else "invalid YAML"
        raise ArticleError(path, f"{kind}{where}: {problem}") from exc
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise ArticleError(path, "the front matter is not a mapping of fields")
    return fields


# U+2028/U+2029 are line breaks to YAML 1.1 and to JavaScript but invisible in a title: a
# CMS's copy-paste artefact. Read as spaces, so every text field is one line wherever it goes
# (YAML write-back, JSON, terminals); the words are kept.
_LINE_SEPARATORS = str.maketrans({"\u2028": " ", "\u2029": " "})


def _clean(text: str) -> str:
    if "\u2028" in text or "\u2029" in text:  # rare: testing first is 10x faster than translate
        return text.translate(_LINE_SEPARATORS)
    return text


def _text(fields: Mapping[str, Any], key: str, required: bool = False) -> str:
    value = fields.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
        raise ValueError(f"{key} must be text, not {type(value).__name__}")
    text = "" if value is None else _clean(str(value)).strip()
    if not text and required:
        raise ValueError(f"no {key}")
    return text


def _optional_text(fields: Mapping[str, Any], key: str) -> str | None:
    return _text(fields, key) or None


def parse_datetime(value: Any) -> datetime | None:
    """A timezone-aware timestamp from what YAML gave: datetime, date or ISO 8601 text.

    A timestamp without a zone is taken as UTC, as the feed's site does.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"publishedDateTime {value!r} is not an ISO 8601 date") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime):
        raise ValueError(f"publishedDateTime must be a date, not {type(value).__name__}")
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _number(fields: Mapping[str, Any], key: str) -> float | None:
    value = fields.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {type(value).__name__}")
    # .nan / .inf are YAML floats but not numbers JSON can hold or a ranking can compare:
    # refused, as any other value that is not a number.
    if not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, not {value}")
    return value


def _provider(fields: Mapping[str, Any]) -> tuple[str | None, str | None]:
    value = fields.get("provider")
    if value is None:
        return None, None
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict):
        raise ValueError("provider must be a mapping with name and domain, "
                         f"not {type(value).__name__}")
    return _optional_text(value, "name"), _optional_text(value, "domain")


def _topics(fields: Mapping[str, Any]) -> tuple[str, ...]:
    value = fields.get("topics")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(
            isinstance(t, str | int | float) and not isinstance(t, bool) for t in value):
        raise ValueError("topics must be a list of names")
    return tuple(_clean(str(t)) for t in value)


def _images(fields: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    value = fields.get("images")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
        raise ValueError("images must be a list of mappings (url, width, height)")
    return tuple(_image(image, position) for position, image in enumerate(value, start=1))


def _image(image: dict[Any, Any], position: int) -> dict[str, Any]:
    """One image mapping, whose values go to JSON and back into YAML as they are.

    So each must be one plain value (text, a finite number, true/false or empty): a nested
    list, a date, binary or NaN in an image is refused rather than guessed at.
    """
    clean: dict[str, Any] = {}
    for key, value in image.items():
        if not isinstance(key, str):
            raise ValueError(f"images entry {position}: key {key!r} is not a name")
        if isinstance(value, str):
            value = _clean(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"images entry {position}: {key} must be a finite number, "
                             f"not {value}")
        elif value is not None and not isinstance(value, bool | int | float):
            raise ValueError(f"images entry {position}: {key} must be text, a number, "
                             f"true/false or empty, not {type(value).__name__}")
        clean[key] = value
    return clean


def article_from_fields(fields: Mapping[str, Any], path: str | None = None) -> Article:
    """Validate one mapping of feed fields (a file's front matter or a related entry).

    Raises ``ValueError`` naming the field at fault.
    """
    title = _text(fields, "title", required=True)
    url = _optional_text(fields, "webUrl") or _optional_text(fields, "originalUrl")
    other_urls = [_optional_text(fields, key)
                  for key in ("originalUrl", "ampWebUrl", "cdnAmpWebUrl")]
    identity = _canonical(url) if url else f"file:{path}" if path else f"title:{title.lower()}"
    aliases = tuple(dict.fromkeys(_canonical(u) for u in other_urls if u))
    provider, domain = _provider(fields)
    related_value = fields.get("related") if path is not None else None
    if related_value is not None and not isinstance(related_value, list):
        raise ValueError("related must be a list of entries")
    related = []
    for position, entry in enumerate(related_value or (), start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"related entry {position} is not a mapping")
        try:
            related.append(article_from_fields(entry))
        except ValueError as exc:
            raise ValueError(f"related entry {position}: {exc}") from None
    return Article(
        id=identity,
        title=title,
        excerpt=_text(fields, "excerpt"),
        published=parse_datetime(fields.get("publishedDateTime")),
        url=url,
        provider=provider,
        domain=domain,
        topics=_topics(fields),
        quality=_number(fields, "quality"),
        images=_images(fields),
        amp_urls=tuple((key, value) for key in ("ampWebUrl", "cdnAmpWebUrl")
                       if (value := _optional_text(fields, key))),
        aliases=tuple(a for a in aliases if a != identity),
        path=path,
        related=tuple(related),
    )


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError as exc:  # urlsplit: a bad IPv6 host, a port out of range
        raise ValueError(f"{url!r} is not a valid URL ({exc})") from None


def article_from_text(text: str, path: str | os.PathLike[str] | None = None,
                      where: object = None) -> Article:
    """The article in one feed file's text. Raises ``ArticleError`` naming ``where``.

    ``path`` is the file's path (its identity when it has no URL); ``where`` names it in
    errors (default: ``path``).
    """
    where = path if where is None else where
    try:
        fields = parse_front_matter(text, where)
        return article_from_fields(fields, None if path is None else str(path))
    except ArticleError:
        raise
    except ValueError as exc:
        raise ArticleError(where, str(exc)) from None
    except Exception as exc:  # third-party text must never crash the caller
        raise ArticleError(where, _unexpected(exc)) from exc


def _unexpected(exc: Exception) -> str:
    return f"unexpected failure while reading it ({type(exc).__name__}: {exc})"


def shown_path(path: str | os.PathLike[str]) -> object:
    """``path`` as it can be printed: undecodable bytes of its name as ``\\xff`` escapes."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return path


def load_article(path: str | os.PathLike[str]) -> Article:
    """Read one feed file. Raises ``ArticleError`` naming the file and the problem."""
    path = Path(path)
    if shown_path(path) is not path:
        # A name that is not UTF-8 cannot be stored in the index's JSON, printed as given or
        # written into a feed's YAML; the file is refused rather than renamed behind the
        # user's back.
        what = "file" if shown_path(path.name) is not path.name else "folder"
        raise ArticleError(shown_path(path), f"the {what} name is not UTF-8; rename the {what}")
    return article_from_text(read_text(path), path)


def iter_article_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named directly, and article files found under folders (recursive, sorted).

    In folders, hidden entries and README files are not articles and are passed over.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_file() or _broken_link(path):
            yield path
        elif path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path).parts
                # A link that leads nowhere is yielded too: reading it says why it was skipped.
                if (found.suffix.lower() in ARTICLE_SUFFIXES
                        and (found.is_file() or _broken_link(found))
                        and not any(part.startswith(".") for part in relative)
                        and not found.stem.lower().startswith("readme")):
                    yield found
        else:
            raise RecommenderError(f"no such file or folder: {path}", "", "Check the path.")


def _broken_link(path: Path) -> bool:
    """A symbolic link whose target does not exist or that leads back to itself."""
    return path.is_symlink() and not path.exists()


@dataclass
class LoadResult:
    """Articles read from disk, and the files that could not be read (with the reason)."""

    articles: list[Article]
    errors: list[ArticleError]

    def error_summary(self, shown: int = 3) -> str:
        """``2 unreadable files: a.md: no title; b.md: binary file...``, the first few."""
        if not self.errors:
            return ""
        some = "; ".join(f"{e.path}: {e.reason}" for e in self.errors[:shown])
        more = len(self.errors) - shown
        plural = "s" if len(self.errors) > 1 else ""
        return (f"{len(self.errors)} unreadable file{plural}: {some}"
                + (f"; and {more} more" if more > 0 else ""))


PARALLEL_FROM = 2000
"""Archives with at least this many files are parsed by one process per core."""


def _load_or_reason(path: Path) -> Article | str:
    # A worker's result: the article, or why not (exceptions with custom fields do not
    # cross process boundaries intact).
    try:
        return load_article(path)
    except ArticleError as exc:
        return exc.reason
    except Exception as exc:  # one file must never abort a build, whatever it holds
        return _unexpected(exc)


def _parse_all(files: list[Path]) -> list[Article | str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if len(files) < PARALLEL_FROM or not cores or cores < 2:
        return [_load_or_reason(path) for path in files]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start at once and need nothing re-imported; YAML parsing is CPU-bound.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(cores, mp_context=context) as pool:
        return list(pool.map(_load_or_reason, files, chunksize=256))


def load_articles(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], strict: bool = False
) -> LoadResult:
    """Read every article under ``paths``; a broken file is reported and skipped.

    With ``strict``, the first broken file raises its ``ArticleError`` instead. Large
    archives are parsed on every core.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files = list(iter_article_files(paths))
    result = LoadResult([], [])
    for path, loaded in zip(files, _parse_all(files), strict=True):
        if isinstance(loaded, Article):
            result.articles.append(loaded)
        elif strict:
            raise ArticleError(shown_path(path), loaded)
        else:
            result.errors.append(ArticleError(shown_path(path), loaded))
    return result
