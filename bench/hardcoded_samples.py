"""The samples of bench/hardcoded.py: the true and false positives that gitleaks and
detect-secrets publish for their rules, by rule family.

Sources (each sample names its own):
- gitleaks, https://github.com/gitleaks/gitleaks, MIT licence: the `tps`/`fps` of
  cmd/generate/config/rules/<rule>.go. Most of gitleaks' true positives are generated from
  a pattern at test time (`secrets.NewSecret(...)`); GENERATED lists those patterns, and
  bench/hardcoded.py generates them the same way with a fixed seed.
- detect-secrets, https://github.com/Yelp/detect-secrets, Apache-2.0 licence: the
  parametrised cases of tests/plugins/<plugin>_test.py.

Each sample: (family, expected, text, source). `expected` is what the source says: True for
a credential, False for a look-alike. EXPECTED_DIFFERENCES lists where this project decides
otherwise on purpose, and why.
"""

GL = "gitleaks"
DS = "detect-secrets"

SAMPLES = [
    # --- GitHub ---
    ("github", True, "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", DS + " github_token_test.py"),
    ("github", False, "foo_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx", DS + " github_token_test.py"),
    # --- GitLab ---
    ("gitlab", True, "glpat-hellOworld380_testin", DS + " gitlab_token_test.py"),
    ("gitlab", True, "gldt-HwllOuhfw-wu0rlD_yep", DS + " gitlab_token_test.py"),
    ("gitlab", True, "glsoat-PREfix_helloworld380_testin_pretty_long_token_long", DS + " gitlab_token_test.py"),
    ("gitlab", False, "glpat-hellOWorld380 testin", DS + " gitlab_token_test.py"),
    ("gitlab", False, "glpat_hellOworld380_testin", DS + " gitlab_token_test.py"),
    ("gitlab", False, "gldt-seems_too000Sshorty", DS + " gitlab_token_test.py"),
    ("gitlab", False, "foo_hello-world80_testin", DS + " gitlab_token_test.py"),
    ("gitlab", False, "glsoat-PREfix_helloworld380_testin_pretty_long_token_long_", DS + " gitlab_token_test.py"),
    ("gitlab", False, "glpat-XXXXXXXXXXX-XXXXXXXX", GL + " gitlab.go"),
    ("gitlab", False, "glpat-xxxxxxxx-xxxxxxxxxxxxxxxxxx.xxxxxxxxx", GL + " gitlab.go"),
    ("gitlab", False, "glptt-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", GL + " gitlab.go"),
    ("gitlab", False, "GR134894112312312312312312312", GL + " gitlab.go"),
    ("gitlab", False, "GR1348941XXXXXXXXXXXXXXXXXXXX", GL + " gitlab.go"),
    ("gitlab", False, "glrt-tx_xxxxxxxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxx", GL + " gitlab.go"),
    # --- Slack ---
    ("slack", True, "xoxp-523423-234243-234233-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "xoxo-523423-234243-234233-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "xoxs-523423-234243-234233-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "xoxa-511111111-31111111111-3111111111111-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "xoxr-523423-234243-234233-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "xoxb-34532454-e039d02840a0b9379c", DS + " slack_test.py"),
    ("slack", True, "https://hooks.slack.com/services/Txxxxxxxx/Bxxxxxxxx/xxxxxxxxxxxxxxxxxxxxxxxx", DS + " slack_test.py"),
    ("slack", True, '"bot_token1": "xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD"', GL + " slack.go"),
    ("slack", True, '"bot_token2": "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1MBS"', GL + " slack.go"),
    ("slack", True, '"bot_token3": "xoxb-4614724432022-5152386766518-O5WzjWGLG0wcCm2WPrjEmnys"', GL + " slack.go"),
    ("slack", True, '"user_token1": "xoxp-41684372915-1320496754-45609968301-e708ba56e1517a99f6b5fb07349476ef"', GL + " slack.go"),
    ("slack", True, '"user_token2": "xoxp-283316862324-298911817009-298923149681-44f585044dace54f5701618e97cd1c0b"', GL + " slack.go"),
    ("slack", True, '"user_token3": "xoxp-11873098179-111402824422-234336993777-b96c9fb3b69f82ebb79d12f280779de1"', GL + " slack.go"),
    ("slack", True, '"user_token4": "xoxp-254112160503-252950188691-252375361712-6cbf56aada30951a9d310a5f23d032a0"', GL + " slack.go"),
    ("slack", True, '"user_token5": "xoxp-4614724432022-4621207627011-5182682871568-1ddad9823e8528ad0f4944dfa3c6fc6c"', GL + " slack.go"),
    ("slack", True, '"url_private": "https:\\/\\/files.slack.com\\/files-pri\\/T04MCQMEXQ9-F04MAA1PKE3\\/image.png?t=xoxe-4726837507825-4848681849303-4856614048758-e0b1f3d4cb371f92260edb0d9444d206"', GL + " slack.go"),
    ("slack", True, '"token1": "xapp-1-A052FGTS2DL-5171572773297-610b6a11f4b7eb819e87b767d80e6575a3634791acb9a9ead051da879eb5b55e"', GL + " slack.go"),
    ("slack", True, '"token2": "xapp-1-IEMF8IMY1OQ-4037076220459-85c370b433e366de369c4ef5abdf41253519266982439a75af74a3d68d543fb6"', GL + " slack.go"),
    ("slack", True, '"token3": "xapp-1-BM3V7LC51DA-1441525068281-86641a2582cd0903402ab523e5bcc53b8253098c31591e529b55b41974d2e82f"', GL + " slack.go"),
    ("slack", True, '"access_token1": "xoxe.xoxp-1-Mi0yLTM0MTQwNDE0MDE3Ni0zNjU5NDY0Njg4MTctNTE4MjA3NTQ5NjA4MC01NDEyOTYyODY5NzUxLThhMTBjZmI1ZWIzMGIwNTg0ZDdmMDI5Y2UxNzVlZWVhYzU2ZWQyZTZiODNjNDZiMGUxMzRlNmNjNDEwYmQxMjQ"', GL + " slack.go"),
    ("slack", True, '"access_token2": "xoxe.xoxp-1-Mi0yLTMxNzcwMjQ0MTcxMy0zNjU5NDY0Njg4MTctNTE1ODE1MjY5MTcxNC01MTU4MDI0MTgyOTc5LWRmY2YwY2U4ODhhNzY5ZGU5MTAyNDU4MDJjMGQ0ZDliMTZhMjNkMmEyYzliNjkzMDRlN2VjZTI4MWNiMzRkNGQ"', GL + " slack.go"),
    ("slack", True, '"access_token4": "xoxe.xoxb-1-Mi0yLTMxNzcwMjQ0MTcxMy0zNjU5NDY0Njg4MTctNTE1ODE1MjY5MTcxNC01MTU4MDI0MTgyOTc5LWRmY2YwY2U4ODhhNzY5ZGU5MTAyNDU4MDJjMGQ0ZDliMTZhMjNkMmEyYzliNjkzMDRlN2VjZTI4MWNiMzRkNGQ"', GL + " slack.go"),
    ("slack", True, '"refresh_token1": "xoxe-1-My0xLTMxNzcwMjQ0MTcxMy01MTU4MTUyNjkxNzE0LTUxODE4NDI0MDY3MzYtMjA5MGFkOTFlZThkZWE2OGFlZDYwYWJjODNhYzAxYjA5ZjVmODBhYjgzN2QyNDdjOTNlOGY5NTg2YWM1OGM4Mg"', GL + " slack.go"),
    ("slack", True, '"refresh_token2": "xoxe-1-My0xLTM0MTQwNDE0MDE3Ni01MTgyMDc1NDk2MDgwLTU0MjQ1NjIwNzgxODEtNGJkYTZhYTUxY2M1ODk3ZTNkN2YzMTgxMDI1ZDQzNzgwNWY4NWQ0ODdhZGIzM2ViOGI0MTM0MjdlNGVmYzQ4Ng"', GL + " slack.go"),
    ("slack", True, '"bot_token1": "xoxb-263594206564-FGqddMF8t08v8N7Oq4i57vs1"', GL + " slack.go"),
    ("slack", True, '"bot_token2": "xoxb-282029623751-BVtmnS3BQitmjZvjpQL7PSGP"', GL + " slack.go"),
    ("slack", True, '"bot_token3": "xoxb-47834520726-N3otsrwj8Cf99cs8GhiRZsX1"', GL + " slack.go"),
    ("slack", True, '"bot_token4": "xoxb-123456789012-Xw937qtWSXJss1lFaKe"', GL + " slack.go"),
    ("slack", True, '"bot_token5": "xoxb-312554961652-uSmliU84rFhnUSBq9YdKh6lS"', GL + " slack.go"),
    ("slack", True, '"bot_token6": "xoxb-51351043345-Lzwmto5IMVb8UK36MghZYMEi"', GL + " slack.go"),
    ("slack", True, '"bot_token7": "xoxb-130154379991-ogFL0OFP3w6AwdJuK7wLojpK"', GL + " slack.go"),
    ("slack", True, '"bot_token8": "xoxb-159279836768-FOst5DLfEzmQgkz7cte5qiI"', GL + " slack.go"),
    ("slack", True, '"bot_token9": "xoxb-50014434-slacktokenx29U9X1bQ"', GL + " slack.go"),
    ("slack", True, '"access_token": "xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c"', GL + " slack.go"),
    ("slack", True, '"access_token1": "xoxs-3206092076-3204538285-3743137121-836b042620"', GL + " slack.go"),
    ("slack", True, '"access_token2": "xoxs-416843729158-132049654-5609968301-e708ba56e1"', GL + " slack.go"),
    ("slack", True, '"access_token3": "xoxs-420083410720-421837374423-440811613314-977844f625b707d5b0b268206dbc92cbc85feef3e71b08e44815a8e6e7657190"', GL + " slack.go"),
    ("slack", True, '"access_token4": "xoxs-4829527689-4829527691-4814341714-d0346ec616"', GL + " slack.go"),
    ("slack", True, '"access_token5": "xoxs-155191149137-155868813314-338998331396-9f6d235915"', GL + " slack.go"),
    ("slack", True, '"access_token7": "xoxo-523423-234243-234233-e039d02840a0b9379c"', GL + " slack.go"),
    ("slack", False, "xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx", GL + " slack.go"),
    ("slack", False, "xoxb-xxx", GL + " slack.go"),
    ("slack", False, "xoxb-12345-abcd234", GL + " slack.go"),
    ("slack", False, "xoxb-xoxb-my-bot-token", GL + " slack.go"),
    ("slack", False, "https://docs.google.com/document/d/1W7KCxOxP-1Fy5EyF2lbJGE2WuKmu5v0suYqoHas1jRM", GL + " slack.go"),
    ("slack", False, '"token1": "xoxp-1234567890"', GL + " slack.go"),
    ("slack", False, '"token2": "xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"', GL + " slack.go"),
    ("slack", False, '"token3": "xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"', GL + " slack.go"),
    ("slack", False, '"token4": "xoxp-572370529330-573807301142-572331691188-####################"', GL + " slack.go"),
    ("slack", False, "xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere", GL + " slack.go"),
    ("slack", False, "xoxe.xoxp-1-RANDOMSTRINGHERE", GL + " slack.go"),
    ("slack", False, "xoxe.xoxp-1-initial", GL + " slack.go"),
    ("slack", False, "xoxe-1-xxx", GL + " slack.go"),
    ("slack", False, "XOxE-RROAmw, Home and Garden, 5:24, 20120323", GL + " slack.go"),
    ("slack", False, "xoxb-xxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx", GL + " slack.go"),
    ("slack", False, "xoxb-Slack_BOT_TOKEN", GL + " slack.go"),
    ("slack", False, "xoxb-abcdef-abcdef", GL + " slack.go"),
    ("slack", False, "https://github.com/xoxa-nyc/xoxa-nyc.github.io/blob/master/README.md", GL + " slack.go"),
    ("slack", False, "https://indieweb.org/images/3/35/2018-250-xoxo-indieweb-1.jpg", GL + " slack.go"),
    # --- Stripe ---
    ("stripe", True, "sk_live_ReTllpYQYfIZu2Jnf2lAPFjD", DS + " stripe_key_test.py"),
    ("stripe", True, "rk_live_5TcWfjKmJgpql9hjpRnwRXbT", DS + " stripe_key_test.py"),
    ("stripe", False, "pk_live_j5krY8XTgIcDaHDb3YrsAfCl", DS + " stripe_key_test.py"),
    ("stripe", False, "sk_live_", DS + " stripe_key_test.py"),
    # --- AWS ---
    ("aws", True, "AKIAZZZZZZZZZZZZZZZZ", DS + " aws_key_test.py"),
    ("aws", False, "akiazzzzzzzzzzzzzzzz", DS + " aws_key_test.py"),
    ("aws", False, "AKIAZZZ", DS + " aws_key_test.py"),
    ("aws", True, "AKIALALEMEL33243OLIB", GL + " aws.go"),
    ("aws", False, "key = AKIAXXXXXXXXXXXXXXXX", GL + " aws.go"),
    ("aws", False, "aws_access_key: AKIAIOSFODNN7EXAMPLE", GL + " aws.go"),
    ("aws", False, 'msgstr "Näytä asiakirjamallikansio."', GL + " aws.go"),
    ("aws", False, "TODAYINASIAASACKOFRICEFELLOVER", GL + " aws.go"),
    ("aws", False, "CTTCATAGGGTTCACGCTGTGTAAT-ACG--CCTGAGGC-CACA-AGGGGACTTCAGCAACCGTCGGG-GATTC-ATTGCCA-A--TGGAAGCAATC-TA-TGGGTTA-TCGCGGAGTCCGCAAAGACGGCCAGTATG-AAGCAGATTTCGCAC-CAATGTGACTGCATTTCGTG-ATCGGGGTAAGTA-TC-GCCGATTC-GC--CCGTCCA-AGT-CGAAG-TA--GGCAATATAAAGCTGC-CATTGCCGAAGCTATCTCGCTA-TACTTGAT-AATCGGCGG-TAG-CACAG-GTCGCAGTATCG-AC-T--AGG-CCTCTCAAAAGTT-GGGTCCCGGCCTCTGGGAAAAACACCTCT-A-AGCGTCAATCAGCTCGGTTTCGCATATTA-TGATATCCCCCGTTGACCAATTGA--TAGTACCCGAGCTTACCGTCGG-ATTCTGGAGTCTT-ATGAGGTTACCGACGA-CGCAGTACCATAAGT-GCGCAATTTGACTGTTCCCGTCGAGTAACCA-AGCTTTGCTCA-CCGGGATGCGCGCCGATGTGACCAGGGGGCGCATGTTACATTGAC-A-GCTGGATCATGTTATGAC-GTGGGTC-ATGCTAAAAGCCTAAAGGACGGT-GCATTAGTAT-TACCGGGACCTCATATCAATGCGCTCGCTAGTTCCTCTTCTCTTGATAACGTATATGCGTCAGGCGCCCGTCCGCCTCCAATACGTG-ACAACGTC-AGTACTGAGCCTC--AA-ACATCGTCTTGTTCG-CC-TACAAAGGATCGGTAGAAAACTCAATATTCGGGTATAAGGTCGTAGGAAGTGTGTCGCCCAGGGCCG-CTAGA-AGCGCACACAAGCG-CTCCTGTCAAGGAGTTG-GTGAAAA-ATGAAC--GACT-ATTGCGTCAC--CTACCTCT-AAGTTTTT-GACAATTTCATGGACGAATTGA-AGCGTCCACAAGCATCTGCCGTAGATATGCGGTAGGTTTTTACATATG-TCACTGCAGAGTCACGGACA-CACATCGCTGTCAAAATGCTCGTACCTAGT-GT-TTGCGATCCCCC-GCGGCATTA-TCTTTTGAACCCTCGTCCCTGTGG-CTCTGATGATTGAG-GTCTGTA-TTCCCTCGTTGTGGGGGGATTGGACCTT-TGTATAGGTTCTTTAACCG-ATGGGGGGCCG--ATCGA-A-TA-TGCTCCTGTTTGCCCCGAACCTT-ACCTCGG-TCCAGACA-CTAAGAAAAACCCC-C-ACTGTAAGGTGCTGAGCCTTTGGATAGCC-CGCGAATGAT-CC-TAGTTGACAA-CTGAACGCGCTCGAACA-TGCCC-GCCCTCTGA--CTGCTGTCTG-GCACCTTTAGACACGCGTCGAC-CATATATT-AGCGCTGTCTGTGG-AGGT-TGTGTCTTGTTGCTCA-CT-CATTATCTGT-AACTGGCTCC-CTC-CCAT-TGGCGTCTTTACACCAACCGCTAGGTTACAGTGCA-TCTAGCGCCTATTATCAGGGCGT-TTGCAGCGGCGCGGTGGCTATGT-GTTAGACATATC-CTTACACTGTATGCTAG-AGCAAGCCAC-TCTGAATGGGTTGC-CGATGAATGA-TCTTGATC-GAGCTCGCA-AC---TACATGGAGTCCGAAGTGAACCTACGGATGATCGTATTCCAACACGAGGATC-TATACGTATAGG-A-GGCG-TAATCCACAATTTAGTAACTCTTGACGC---GGATGAAAAT", GL + " aws.go"),
    # --- Google ---
    ("google", True, "AIzaSyNHxIf32IQ1a1yjl3ZJIqKZqzLAK1XhDk-", GL + " gcp.go"),
    ("google", False, "GWw4hjABFzZCGiRpmlDyDdo87Jn9BN9THUA47muVRNunLxsa82tMAdvmrhOqNkRKiYMEAFbTJAIzaTesb6Tscfcni8vIpWZqNCXFDFslJtVSvFDq", GL + " gcp.go"),
    ("google", False, "AIzaTesb6Tscfcni8vIpWZqNCXFDFslJtVSvFDqabcd123", GL + " gcp.go"),
    ("google", False, 'apiKey: "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"', GL + " gcp.go"),
    ("google", False, "AIZASYCO2CXRMC9ELSKLHLHRMBSWDEVEDZTLO2O", GL + " gcp.go"),
] + [
    ("google", False, key, GL + " gcp.go (Firebase SDK example keys)")
    for key in [
        "AIzaSyabcdefghijklmnopqrstuvwxyz1234567", "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs",
        "AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM", "AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU",
        "AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0", "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
        "AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c", "AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4",
        "AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY", "AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM",
        "AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ", "AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g",
        "AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU", "AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw",
        "AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE", "AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY",
    ]
] + [
    # --- npm ---
    ("npm", True, "//registry.npmjs.org/:_authToken=743b294a-cd03-11ec-9d64-0242ac120002", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken=346a14f2-a672-4668-a892-956a462ab56e", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken= 743b294a-cd03-11ec-9d64-0242ac120002", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken=npm_xxxxxxxxxxx", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_auth=dGVzdDp0ZXN0", DS + " npm_test.py"),
    ("npm", True, "//private.registry.com/:_auth=YWRtaW46cGFzc3dvcmQ=", DS + " npm_test.py"),
    ("npm", True, "//registry.example.com/:_auth=foobar", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_auth= dGVzdDp0ZXN0", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_auth=SGVsbG8gV29ybGQ+", DS + " npm_test.py"),
    ("npm", True, "//registry2.example.com/:_authToken=MYTOKEN2", DS + " npm_test.py"),
    ("npm", True, "//private.npm.registry/:_authToken=CUSTOM_TOKEN_123", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken=abc123def456", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken=token_with_underscores", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken=token-with-hyphens", DS + " npm_test.py"),
    ("npm", True, "//registry.npmjs.org/:_authToken= MYTOKEN2", DS + " npm_test.py"),
    ("npm", False, "//registry.npmjs.org:_authToken=743b294a-cd03-11ec-9d64-0242ac120002", DS + " npm_test.py"),
    ("npm", False, "registry.npmjs.org/:_authToken=743b294a-cd03-11ec-9d64-0242ac120002", DS + " npm_test.py"),
    ("npm", False, "///:_authToken=743b294a-cd03-11ec-9d64-0242ac120002", DS + " npm_test.py"),
    ("npm", False, "_authToken=743b294a-cd03-11ec-9d64-0242ac120002", DS + " npm_test.py"),
    ("npm", False, "_auth=dGVzdDp0ZXN0", DS + " npm_test.py"),
    ("npm", False, "//registry.npmjs.org/:_authToken=${NPM_TOKEN}", DS + " npm_test.py"),
    ("npm", False, "//registry.npmjs.org/:_auth=${AUTH_TOKEN}", DS + " npm_test.py"),
    ("npm", False, "//registry.npmjs.org/:_authToken=", DS + " npm_test.py"),
    ("npm", False, "//registry.npmjs.org/:_auth=", DS + " npm_test.py"),
    # --- PyPI ---
    ("pypi", True, "pypi-AgEIcHlwaS5vcmcCJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sxLFsitesttestbWluaW1hbC1wcm9qZWN0Il1dAAIsWzIsWyJjYWY4OTAwZi0xNDMwLTRiYQstYmFmMi1mMDE3OGIyNWZhNTkiXV0AAAYgh2UINPjWBDwT0r3tQ1o5oZyswcjN0-IluP6z34SX3KM", DS + " pypi_token_test.py"),
    ("pypi", True, "pypi-AgENdGVzdC5weXBpLm9yZwIkN2YxOWZhOWEtY2FjYS00MGZhLTj2MGEtODFjMnE2MjdmMzY0AAIqWzMsImJlM2FiOWI5LTRmYUTnNEg4ZS04Mjk0LWFlY2Y2NWYzNGYzNyJdAAAGIMb5Hb8nVvhcAizcVVzA-bKKnwN7Pe0RmgPRCvrPwyJf", DS + " pypi_token_test.py"),
    ("pypi", False, "pypi-AgEIcHlwaS5vcmcCJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sxLFsibWluaW1h", DS + " pypi_token_test.py"),
    # --- SendGrid ---
    ("sendgrid", True, "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", DS + " sendgrid_test.py"),
    ("sendgrid", False, "SG.ngeVfQFYQlKU0ufo8x5d1A..TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr", DS + " sendgrid_test.py"),
    ("sendgrid", False, "AG.ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr", DS + " sendgrid_test.py"),
    # --- Twilio ---
    ("twilio", True, "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", DS + " twilio_test.py"),
    ("twilio", True, "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", DS + " twilio_test.py"),
    # --- private keys ---
    ("private-key", True, '"-----BEGIN RSA PRIVATE KEY-----\\nc3VwZXIgZHVwZXIgc2VjcmV0IHBhc3N3b3JkLCBzdXBlciBkdXBlciBzZ\\nWNyZXQgcGFzc3dvcmQhMTIzNCMkJQpzdXBlciBkdXBlciBzZWNyZXQgcGFzc3dvcmQsIHN1cGVyIGR1cGVyIHNlY3JldCBwYXNzd29yZCExMjM0IyQlCgo=\\n-----END RSA PRIVATE KEY-----"', DS + " private_key_test.py"),
    ("private-key", True, "some text here\n-----BEGIN PRIVATE KEY-----\nc3VwZXIgZHVwZXIgc2VjcmV0IHBhc3N3b3JkLCBzdXBlciBkdXBlciBzZWNyZXQgcGFzc3dvcmQhMTIzNCMkJQpzdXBlciBkdXBlciBzZWNyZXQgcGFzc3dvcmQsIHN1cGVyIGR1cGVyIHNlY3JldCBwYXNzd29yZCExMjM0IyQlCgo=\n-----END PRIVATE KEY-----", DS + " private_key_test.py"),
    ("private-key", True, "some text here\nPuTTY-User-Key-File-2\nsecret key", DS + " private_key_test.py"),
    ("private-key", True, "-----BEGIN PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAVwAAAAdzc2gtcnNhAAAAAwEAAQAAAEEAqPfgaTEWEP3S9w0tgsicURfo+nLW09/0KfOPinhYZ4ouzU+3xC4plEp8Ut9FgL0AgqNslNaK34Kq+NZjO9DAQAAATB+9/CSfvfwkgAAAAdzc2gtcnNhAAAAQQCo9+BpMRYQ/dL3DS2CyJxRF+j6ctbT3/Qp84+KeFhnii7NT7fELilKUSnxS30WAvQCCo2yU1orfgqr41mM70MBAAAAAwEAAQAAAEAgkuLEHLaqkWhLgNKagSajeobLS3rPT0Agm0f7k55FXVt743hwNgkp98bMNrzy9AQ1mJGbQZGrpr4c8ZAx3aRNAAAAIBOs/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97YE00AAAAIQCjEr8yAZ54u6Lfzkontk5iS2OEsE0AHr18rBNkWxQ2HQAAACEBCUEaRQnMnbp79mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUAAAAXcGhwc2VjbGliLWdlbmVyYXRlZC1rZXkBAgME\n-----END PRIVATE KEY-----", GL + " privatekey.go"),
    ("private-key", True, "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEmo3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2kTQIhAKMSvzIBnni7ot/OSie2TmJLY4SwTQAevXysE2RbFDYdAiEBCUEaRQnMnbp79mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUCIG2Es59z8ugGrDY+pxLQnwfotadxd+Uyv/Ow5T0q5gIJAiEAyS4RaI9YG8EWx/2w0T67ZUVAw8eOMB6BIUg0Xcu+3okCIBOs/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97Y==\n-----END RSA PRIVATE KEY-----\n", GL + " privatekey.go"),
    ("private-key", False, '"private_key": "-----BEGIN PRIVATE KEY-----' + "X" * 1500 + '-----END PRIVATE KEY-----\\n"', GL + " gcp.go (low entropy key)"),
    # --- JWT ---
    ("jwt", True, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", DS + " jwt_test.py"),
    ("jwt", True, "eyJ0eXAiOiJKV1QiLA0KImFsZyI6IkhTMjU2In0.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ", DS + " jwt_test.py"),
    ("jwt", True, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJuYW1lIjoiSm9lIiwKInN0YXR1cyI6ImVtcGxveWVlIgp9", DS + " jwt_test.py"),
    ("jwt", True, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IsWww6HFkcOtIMOWxZHDqcOoIiwiaWF0IjoxNTE2MjM5MDIyfQ.k5HibI_uLn_RTuPcaCNkaVaQH2y5q6GvJg8GPpGMRwQ", DS + " jwt_test.py"),
    ("jwt", True, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ", DS + " jwt_test.py"),
    ("jwt", False, '{"alg":"HS256","typ":"JWT"}.{"name":"Jon Doe"}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', DS + " jwt_test.py"),
    ("jwt", False, "bm90X3ZhbGlkX2pzb25fYXRfYWxs.bm90X3ZhbGlkX2pzb25fYXRfYWxs.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", DS + " jwt_test.py"),
    ("jwt", False, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", DS + " jwt_test.py"),
    ("jwt", False, "eyJhbasdGciOiJIUaddasdasfsasdasdzI1NiIasdsInR5cCI6IkpXVCasdJasd9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", DS + " jwt_test.py"),
    ("jwt", False, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", DS + " jwt_test.py"),
    ("jwt", False, "eyJAAAA.eyJBBB", DS + " jwt_test.py"),
    ("jwt", False, "eyJBB.eyJCC.eyJDDDD", DS + " jwt_test.py"),
    ("jwt", True, "eyJhbGciOieeeiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwic3ViZSI6IjEyMzQ1Njc4OTAiLCJuYW1lZWEiOiJKb2huIERvZSIsInN1ZmV3YWZiIjoiMTIzNDU2Nzg5MCIsIm5hbWVmZWF3ZnciOiJKb2huIERvZSIsIm5hbWVhZmV3ZmEiOiJKb2huIERvZSIsInN1ZndhZndlYWIiOiIxMjM0NTY3ODkwIiwibmFtZWZ3YWYiOiJKb2huIERvZSIsInN1YmZ3YWYiOiIxMjM0NTY3ODkwIiwibmFtZndhZSI6IkpvaG4gRG9lIiwiaWZ3YWZhYXQiOjE1MTYyMzkwMjJ9.a_5icKBDo-8EjUlrfvz2k2k-FYaindQ0DEYNrlsnRG0==", GL + " jwt.go"),
    # --- URLs with a password ---
    ("url-password", True, "https://username:password@yelp.com", DS + " basic_auth_test.py"),
    ("url-password", False, "http://localhost:5000/<%= @variable %>", DS + " basic_auth_test.py"),
]

# gitleaks' generated true positives: (family, prefix, alphabet, length, suffix pattern).
ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
HEX = "0123456789abcdef"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
WORD = ALNUM + "_-"
EXTENDED = ALNUM + "=_-."
GENERATED = [
    ("github", "ghp_", ALNUM, 36, "github.go"),
    ("github", "gho_", ALNUM, 36, "github.go"),
    ("github", "ghu_", ALNUM, 36, "github.go"),
    ("github", "ghs_", ALNUM, 36, "github.go"),
    ("github", "ghr_", ALNUM, 36, "github.go"),
    ("gitlab", "glpat-", ALNUM, 20, "gitlab.go"),
    ("gitlab", "gldt-", ALNUM, 20, "gitlab.go"),
    ("gitlab", "glrt-", ALNUM, 20, "gitlab.go"),
    ("gitlab", "glsoat-", ALNUM, 20, "gitlab.go"),
    ("gitlab", "glffct-", ALNUM, 20, "gitlab.go"),
    ("gitlab", "glft-", ALNUM, 20, "gitlab.go"),
    ("gitlab", "glimt-", ALNUM, 25, "gitlab.go"),
    ("gitlab", "glagent-", ALNUM, 50, "gitlab.go"),
    ("gitlab", "gloas-", ALNUM, 64, "gitlab.go"),
    ("gitlab", "glptt-", HEX, 40, "gitlab.go"),
    ("gitlab", "GR1348941", ALNUM, 20, "gitlab.go"),
    ("stripe", "sk_test_", ALNUM, 30, "stripe.go"),
    ("aws", "AKIA", BASE32, 16, "aws.go"),
    ("aws", "ASIA", BASE32, 16, "aws.go"),
    ("aws", "ABIA", BASE32, 16, "aws.go"),
    ("aws", "ACCA", BASE32, 16, "aws.go"),
    ("google", "AIza", WORD, 35, "gcp.go"),
    ("npm", "npm_", ALNUM, 36, "npm.go"),
    ("pypi", "pypi-AgEIcHlwaS5vcmc", HEX, 64, "pypi.go"),
    ("sendgrid", "SG.", EXTENDED, 66, "sendgrid.go"),
    ("twilio", "SK", HEX, 32, "twilio.go"),
]

# Where this project decides otherwise than the source, on purpose.
EXPECTED_DIFFERENCES = {
    "https://hooks.slack.com/services/Txxxxxxxx/Bxxxxxxxx/xxxxxxxxxxxxxxxxxxxxxxxx":
        "a placeholder (runs of x): a real webhook URL is found",
    "AKIAZZZZZZZZZZZZZZZZ": "one repeated letter: gitleaks too requires some entropy",
    "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": "a placeholder (runs of x)",
    "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": "a placeholder (runs of x)",
    "//registry.npmjs.org/:_authToken=npm_xxxxxxxxxxx": "a placeholder (runs of x)",
    "//registry.example.com/:_auth=foobar": "an example.com registry: a documentation placeholder",
    "//registry2.example.com/:_authToken=MYTOKEN2": "an example.com registry: a documentation placeholder",
    "https://username:password@yelp.com": "the password is the word `password`, a documentation placeholder",
    "pypi-AgEIcHlwaS5vcmcCJDU3OTM1MjliLWIyYTYtNDEwOC05NzRkLTM0MjNiNmEwNWIzYgACF1sxLFsibWluaW1h":
        "68 characters after the prefix: gitleaks' own generated tokens have 64, so this rule takes 50 or more, as gitleaks does",
}
