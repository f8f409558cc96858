"""Lineage graphs (networkx, edges parent -> child) as text for other tools: JSON, DOT, GraphML."""
from __future__ import annotations

import json
from typing import Any

import networkx as nx


def label(graph: nx.DiGraph, node: int) -> str:
    """One line per program: id, origin, environment, run, fit and score, ★ if it became its run's model."""
    a = graph.nodes[node]
    fit = "not evaluated" if a.get("n_transitions") is None else f"fit {a.get('explained')}/{a.get('n_transitions')}"
    score = "" if a.get("score") is None else f", score {a['score']:.2f}"
    star = " ★" if a.get("is_model") else ""
    data = f" · data: dataset {a['dataset']} ({a.get('dataset_name')})" if a.get("dataset") is not None else ""
    return f"{node} {a.get('origin')} · {a.get('env')} · run {a.get('run')}{data} · {fit}{score}{star}"


def _plain(graph: nx.DiGraph) -> nx.DiGraph:
    """GraphML holds only str/int/float/bool attributes: drop the missing ones."""
    out = nx.DiGraph()
    for node, attrs in graph.nodes(data=True):
        out.add_node(node, **{k: v for k, v in attrs.items() if v is not None})
    out.add_edges_from(graph.edges)
    return out


def to_json(graph: nx.DiGraph) -> str:
    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return json.dumps(data, indent=2, default=str)


def to_graphml(graph: nx.DiGraph) -> str:
    return "\n".join(nx.generate_graphml(_plain(graph))) + "\n"


def to_dot(graph: nx.DiGraph, focus: int | None = None) -> str:
    lines = ["digraph lineage {", "  rankdir=TB;", "  node [shape=box, fontname=monospace];"]
    for node in sorted(graph.nodes):
        text = label(graph, node).replace("\\", "\\\\").replace('"', '\\"').replace(" · ", "\\n")
        style = ', style="bold,filled", fillcolor="lightyellow"' if node == focus else ""
        if graph.nodes[node].get("is_model"):
            style += ', color="darkgreen", penwidth=2'
        lines.append(f'  "{node}" [label="{text}"{style}];')
    for parent, child in sorted(graph.edges):
        lines.append(f'  "{parent}" -> "{child}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
