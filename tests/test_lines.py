"""The line walker: a block's lines taken from an earlier walk of that block (as
`Measures` hands them on) are the lines a walk of the whole would have given."""

from govwatch.parsers.html import parse_html, walk_lines

PAGE = """<html><body><div id="main">
<h1>关于做好2026年招生工作的通知</h1>
<div class="info">发布时间：2026-11-20 <span>来源：靖江市教育局</span></div>
<p>各学校：<br>现将有关事项通知如下。</p>
<table><tr><td>索引号</td><td>014/2026-00012</td></tr>
<tr><td>发布机构</td><td><p>靖江市</p><p>教育局</p></td></tr></table>
<table><tr><td><div>版式表格里的<p>段落</p></div></td></tr></table>
<pre>第一行
  第二行</pre>
<p>附件：<a href="/f/a.pdf">招生计划.pdf</a></p>
<div class="files"><a href="/f/b.doc">报名表.doc</a><a href="/f/c.xls">名额表.xls</a></div>
<ul><li>一</li><li>二<div>二之下</div></li></ul>
</div></body></html>"""


def test_known_block_lines_give_the_lines_of_a_fresh_walk() -> None:
    body = parse_html(PAGE).body
    assert body is not None
    fresh = walk_lines(body)
    assert [line.text for line in fresh][:3] == [
        "关于做好2026年招生工作的通知",
        "发布时间：2026-11-20 来源：靖江市教育局",
        "各学校：",
    ]
    assert "发布机构 | 靖江市 教育局" in [line.text for line in fresh]
    assert [line.text for line in fresh if line.file_link] == ["报名表.doc", "名额表.xls"]
    blocks = [
        node
        for node in body.traverse()
        if node.tag in ("div", "p", "table", "td", "li", "ul", "pre", "h1")
    ]
    assert len(blocks) > 15
    for block in blocks:
        known = {block.mem_id: walk_lines(block)}
        assert walk_lines(body, known) == fresh, block.html
    every = {block.mem_id: walk_lines(block) for block in blocks}
    assert walk_lines(body, every) == fresh
