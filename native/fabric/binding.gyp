{
  "targets": [
    {
      "target_name": "fabric",
      "sources": ["fabric.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lfabric", "-lpthread"]
    }
  ]
}
