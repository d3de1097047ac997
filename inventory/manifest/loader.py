"""YAML loading that remembers the line every mapping, key and list item came from.

A SafeLoader subclass builds `LineDict` and `LineList` (plain dict and list subclasses) so
the schema can report `fleet.yaml:12: bots[3].team: ...` without a second parse. It also bounds
what a hostile file can cost: its size, its nesting depth and how much its aliases expand (an
"alias bomb" of a few lines would otherwise expand to billions of nodes).
"""

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent

from .errors import ManifestError, ManifestIssue

MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # about 50,000 bots
MAX_DEPTH = 32  # mappings and lists inside each other
MAX_ALIAS_NODES = 10_000  # nodes that all aliases together may add by expansion


class LineDict(dict):
    """A mapping with its start line, the line of each key and any keys given twice."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.key_lines = {}
        self.duplicate_keys = []  # (key, line) of each repeat

    def line_of(self, key):
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence with its start line and the line of each item."""

    def __init__(self, line):
        super().__init__()
        self.line = line
        self.item_lines = []

    def line_of(self, index):
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class LimitError(ComposerError):
    """A file beyond one of the documented limits (depth, aliases)."""


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers, within the limits."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth, self.alias_nodes, self.node_sizes = 0, 0, {}

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.depth >= MAX_DEPTH:
            raise LimitError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        if self.check_event(AliasEvent) and self.peek_event().anchor in self.anchors:
            self.alias_nodes += self.node_size(self.anchors[self.peek_event().anchor])
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise LimitError(None, None, f"aliases expand to more than {MAX_ALIAS_NODES} nodes", mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def node_size(self, node):
        """Nodes in `node` once its aliases are expanded (each distinct node is counted once per use)."""
        if id(node) not in self.node_sizes:
            children = node.value if isinstance(node.value, list) else []
            pairs = (pair if isinstance(pair, tuple) else (pair,) for pair in children)
            self.node_sizes[id(node)] = 1 + sum(self.node_size(child) for pair in pairs for child in pair)
        return self.node_sizes[id(node)]

    def construct_line_mapping(self, node):
        self.flatten_mapping(node)
        data = LineDict(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError as exc:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found an unhashable key", key_node.start_mark) from exc
            key_line = key_node.start_mark.line + 1
            if key in data:
                data.duplicate_keys.append((key, key_line))
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_line
        return data

    def construct_line_sequence(self, node):
        data = LineList(node.start_mark.line + 1)
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_lines.append(child.start_mark.line + 1)
        return data


LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_line_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_line_sequence)


def yaml_load(*, text, source):
    """Parse one YAML document; a syntax error or a limit becomes a ManifestError naming the line."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError([ManifestIssue(source, None, "", f"larger than {MAX_MANIFEST_BYTES} bytes")])
    loader = LineLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        line = mark.line + 1 if mark else None
        label = "limit exceeded" if isinstance(exc, LimitError) else "YAML syntax error"
        raise ManifestError([ManifestIssue(source, line, "", f"{label}: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise ManifestError([ManifestIssue(source, None, "", f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()
