"""Reader profiles and recommendations: a profile's library in, the papers that matter to it out, with reasons."""
