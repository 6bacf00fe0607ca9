-- migrate.json: cjson with marked empty arrays and embedded raw texts.
local cjson = require("cjson")
local json = require("migrate.json")

describe("migrate.json", function()
  it("encodes plain values and tables as cjson does, without touching them", function()
    local doc = { a = 1, b = "x", c = { 1, 2, { d = true } } }
    local text = json.encode(doc)
    assert.are.same(doc, cjson.decode(text))
    assert.are.equal(cjson.encode(doc), text)
    assert.are.equal('"s"', json.encode("s"))
    assert.are.equal("3", json.encode(3))
    assert.are.same({ a = 1, b = "x", c = { 1, 2, { d = true } } }, doc)
  end)

  it("writes a marked empty array as [] and an unmarked empty table as {}, at any depth", function()
    assert.are.equal("[]", json.encode(json.array()))
    local doc = { list = json.array(), obj = {}, deep = { { inner = json.array({}) } } }
    local back = cjson.decode(json.encode(doc))
    assert.are.equal("[]", cjson.encode(back.list):gsub("{}", "[]")) -- cjson decodes [] as {}
    assert.matches('"list":%[%]', json.encode(doc))
    assert.matches('"obj":{}', json.encode(doc))
    assert.matches('"inner":%[%]', json.encode(doc))
    -- the input keeps its markers: encoding twice gives the same text
    assert.are.equal(json.encode(doc), json.encode(doc))
    assert.are.equal("json.array", getmetatable(doc.list).__name)
  end)

  it("embeds raw JSON texts as they are", function()
    local doc = { job = json.raw('{"k":[],"n":1}'), other = json.raw("[1,2]"), s = "x" }
    local text = json.encode(doc)
    assert.matches('"job":{"k":%[%],"n":1}', text)
    assert.matches('"other":%[1,2%]', text)
    assert.are.equal("x", cjson.decode(text).s)
    assert.are.equal('{"k":[],"n":1}', json.encode(json.raw('{"k":[],"n":1}')))
  end)
end)
