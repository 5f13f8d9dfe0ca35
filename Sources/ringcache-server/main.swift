import RingcacheServer

await RingcacheServerMain.run()
